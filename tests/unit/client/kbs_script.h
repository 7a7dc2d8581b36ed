// A scripted KBS for KbsSession's tests: an in-process net::HttpServer answering /kbs/v0/auth,
// /kbs/v0/attest and /kbs/v0/resource/<path> as Trustee does when nothing is overridden (the
// cookie, the challenge, a token, each resource as a JWE to the tee-pubkey of the attest request,
// made by jwe_for_test.h), and recording every request for the test to inspect.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/http_server.h"

namespace cvm::test {

inline constexpr const char* SCRIPT_NONCE = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
inline constexpr const char* SCRIPT_SESSION_ID = "3f2a9c0e5b7d4a61b8e0c2d4f6a8b0c1";
inline constexpr const char* SCRIPT_TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJlYXIuc3RhdHVzIjoiYWZmaXJtaW5nIn0.c2lnbmF0dXJl";

struct KbsScript {
    std::string nonce = SCRIPT_NONCE;
    // The auth reply's Set-Cookie headers, as Trustee's actix-web writes its one.
    std::vector<std::string> set_cookies = {std::string("kbs-session-id=") + SCRIPT_SESSION_ID +
                                            "; Expires=Mon, 07 Dec 2026 02:05:00 GMT"};
    std::optional<net::HttpResponse> auth_reply, attest_reply;  // set: answered instead
    std::map<std::string, std::string> resources;               // path -> plaintext
    std::map<std::string, net::HttpResponse> resource_replies;  // path -> answered instead
    int expired_requests{0};  // the first N resource requests are answered as for an expired session
};

// Trustee's problem detail (kbs/src/error.rs): no Content-Type, as actix-web sends it there.
net::HttpResponse problem(int status, const std::string& kind, const std::string& detail);
// A 200 reply with `body` as application/json.
net::HttpResponse json_reply(const std::string& body);
// The flattened JWE of `plaintext` to the P-256 key whose JWK coordinates are `x`, `y`, as
// Trustee's ecdh_es_a256kw_p256 shapes it (kbs::jwe::encrypt_flattened); fails the calling test on
// any error.
std::string jwe_to(std::string_view x, std::string_view y, ByteView plaintext);

class ScriptedKbs {
public:
    explicit ScriptedKbs(KbsScript script);
    ~ScriptedKbs();

    std::string url() const;
    std::vector<net::HttpRequest> requests() const;

private:
    net::HttpResponse answer(const net::HttpRequest& request);

    KbsScript m_script;
    mutable std::mutex m_mutex;
    std::vector<net::HttpRequest> m_requests;
    std::string m_x, m_y;  // the tee-pubkey of the last attest request
    std::unique_ptr<net::HttpServer> m_server;
};

}  // namespace cvm::test
