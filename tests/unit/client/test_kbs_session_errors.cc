// KbsSession's refusals: Trustee's problem details at each step (the message, the code, the
// status kept), statuses without one, transport failures, and the options refused before any
// request.
#include <doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "base/file.h"
#include "client/kbs_session.h"
#include "kbs_script.h"
#include "session_fixture.h"

using namespace cvm;
using namespace cvm::test;
using client::KbsSession;

namespace {

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

// A session that has attested against `kbs`, with one secret `db` at default/cvminit/db.
KbsSession attested(const ScriptedKbs& kbs)
{
    client::KbsOptions options = kbs_options(kbs.url());
    options.resources = {{"db", "default/cvminit/db", false}};
    auto s = KbsSession::begin(options);
    REQUIRE_MESSAGE(s.ok(), message_of(s.error()));
    REQUIRE(s->attest(vector_report(s->report_data()), {}).ok());
    return s.release_value();
}

Error begin_error(KbsScript script)
{
    ScriptedKbs kbs(std::move(script));
    auto s = KbsSession::begin(kbs_options(kbs.url()));
    REQUIRE_FALSE(s.ok());
    return s.error();
}

Error attest_error(KbsScript script, int* status)
{
    ScriptedKbs kbs(std::move(script));
    auto s = KbsSession::begin(kbs_options(kbs.url()));
    REQUIRE(s.ok());
    auto r = s->attest(vector_report(s->report_data()), {});
    REQUIRE_FALSE(r.ok());
    *status = s->last_status();
    return r.error();
}

Error fetch_error(KbsScript script, int* status)
{
    ScriptedKbs kbs(std::move(script));
    KbsSession s = attested(kbs);
    auto r = s.fetch();
    REQUIRE_FALSE(r.ok());
    *status = s.last_status();
    return r.error();
}

// A port where nothing listens: bound, not listening, so a SYN is refused and no one can take it.
uint16_t closed_port(UniqueFd& holder)
{
    holder.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(bind(holder.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(getsockname(holder.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("KbsSession: Trustee's 401 problem detail at each step, with its Kind and detail")
{
    KbsScript auth;
    auth.auth_reply = problem(401, "AttestationError", "Attestation error: RCAR handshake Auth failed");
    Error e = begin_error(std::move(auth));
    CHECK(message_of(e) == "KBS auth: HTTP 401 AttestationError: Attestation error: RCAR handshake Auth failed");
    CHECK(e.code() == Errc::Policy);

    KbsScript attest;
    attest.attest_reply = problem(401, "AttestationError", "Attestation error: RCAR handshake Attest failed");
    int status = 0;
    e = attest_error(std::move(attest), &status);
    CHECK(message_of(e) == "KBS attest: HTTP 401 AttestationError: Attestation error: RCAR handshake Attest failed");
    CHECK(e.code() == Errc::Policy);
    CHECK(status == 401);

    KbsScript resource;
    resource.resource_replies["default/cvminit/db"] = problem(401, "PolicyDeny", "Access denied by policy");
    e = fetch_error(std::move(resource), &status);
    CHECK(message_of(e) == "KBS resource db (default/cvminit/db): HTTP 401 PolicyDeny: Access denied by policy");
    CHECK(e.code() == Errc::Policy);
    CHECK(status == 401);
}

TEST_CASE("KbsSession: a 404 names the resource and its path; 5xx, 408 and 429 may be retried")
{
    KbsScript missing;
    missing.resource_replies["default/cvminit/db"] =
        problem(404, "InvalidRequestPath", "Request path default/cvminit/db is invalid");
    int status = 0;
    Error e = fetch_error(std::move(missing), &status);
    CHECK(message_of(e) == "KBS resource db (default/cvminit/db): HTTP 404 InvalidRequestPath: Request path "
                           "default/cvminit/db is invalid");
    CHECK(e.code() == Errc::Policy);
    CHECK(status == 404);

    for (int code : {500, 502, 503, 408, 429}) {
        KbsScript busy;
        busy.resource_replies["default/cvminit/db"] = net::HttpResponse{code, {}, Bytes()};
        e = fetch_error(std::move(busy), &status);
        CAPTURE(code);
        CHECK(message_of(e) ==
              "KBS resource db (default/cvminit/db): HTTP " + std::to_string(code) + " (no problem detail)");
        CHECK(e.code() == Errc::Unavailable);
        CHECK(status == code);
    }

    KbsScript down;
    down.attest_reply = problem(500, "StorageBackendInitialization", "Storage backend initialization failed");
    e = attest_error(std::move(down), &status);
    CHECK(e.code() == Errc::Unavailable);
    CHECK(status == 500);
}

TEST_CASE("KbsSession: error bodies that are not Trustee's problem detail, and hostile details")
{
    KbsScript html;
    html.auth_reply = net::HttpResponse{401, {{"Content-Type", "text/html"}}, Bytes{'<', 'h', '1', '>'}};
    Error e = begin_error(std::move(html));
    CHECK(message_of(e) == "KBS auth: HTTP 401 (no problem detail)");
    CHECK(e.code() == Errc::Policy);

    for (const char* body : {R"({"type":"x"})", R"({"type":"x","detail":"d","extra":1})", R"({"type":1,"detail":"d"})",
                             R"(["type","detail"])"}) {
        KbsScript odd;
        odd.auth_reply = net::HttpResponse{403, {}, Bytes(body, body + strlen(body))};
        CHECK_MESSAGE(message_of(begin_error(std::move(odd))) == "KBS auth: HTTP 403 (no problem detail)", body);
    }

    // Control characters and non-ASCII bytes become '?', the detail stops at 120 bytes; another
    // server's type is shown whole.
    KbsScript hostile;
    std::string detail = "line\\nbreak \\u001b[31m caf\\u00e9 " + std::string(200, 'x');
    std::string body = R"({"type":"urn:other:Denied","detail":")" + detail + "\"}";
    hostile.auth_reply = net::HttpResponse{401, {}, Bytes(body.begin(), body.end())};
    e = begin_error(std::move(hostile));
    std::string shown = "line?break ?[31m caf?? " + std::string(120 - 23, 'x') + "...";
    CHECK(message_of(e) == "KBS auth: HTTP 401 urn:other:Denied: " + shown);
}

TEST_CASE("KbsSession: transport failures keep the net layer's code and leave last_status at 0")
{
    UniqueFd holder;
    uint16_t port = closed_port(holder);
    auto s = KbsSession::begin(kbs_options("http://127.0.0.1:" + std::to_string(port)));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code() == Errc::Unavailable);
    CHECK(message_of(s.error()).rfind("KBS auth: ", 0) == 0);

    KbsScript huge;
    huge.resource_replies["default/cvminit/db"] = json_reply(std::string(kbs::MAX_JWE_SIZE + 1, ' '));
    ScriptedKbs kbs(std::move(huge));
    KbsSession session = attested(kbs);
    auto r = session.fetch();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Network);
    CHECK(message_of(r.error()).rfind("KBS resource db (default/cvminit/db): ", 0) == 0);
    CHECK(session.last_status() == 0);
}

TEST_CASE("KbsSession: options are checked before any request")
{
    client::KbsOptions base = kbs_options("http://127.0.0.1:9");
    for (const char* url : {"http://kbs.example/kbs", "http://kbs.example/", "http://kbs.example?x=1",
                            "http://kbs.example#f", "ftp://kbs.example", ""}) {
        client::KbsOptions o = base;
        o.url = url;
        auto s = KbsSession::begin(o);
        REQUIRE_FALSE(s.ok());
        CHECK_MESSAGE(s.error().code() == Errc::Config, url);
    }
    std::vector<std::vector<client::KbsResource>> bad = {
        {{".hidden", "a/b/c", false}},
        {{"db", "a/b", false}},
        {{"db", "a/b/c/d", false}},
        {{"db", "a/.b/c", false}},
        {{"db", "a/b/c", false}, {"db", "a/b/d", true}},
    };
    for (const auto& resources : bad) {
        client::KbsOptions o = base;
        o.resources = resources;
        auto s = KbsSession::begin(o);
        REQUIRE_FALSE(s.ok());
        CHECK_MESSAGE(s.error().code() == Errc::Config, resources.back().path);
    }
}
