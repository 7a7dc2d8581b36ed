// The agent's side of Trustee's KBS protocol, RCAR 0.4.0 (docs/kbs.md; trustee
// kbs/docs/kbs_attestation_protocol.md): one KbsSession is one attestation of one TEE key.
//
//   auto s = TRY(KbsSession::begin(options));          // fresh P-256 TEE key, POST /kbs/v0/auth
//   Bytes report = provider(s.report_data());          // SHA-384(JCS{nonce, tee-pubkey}) || 0^16
//   TRY(s.attest(report, cert_entries));               // POST /kbs/v0/attest
//   proto::Release r = TRY(s.fetch());                 // GET /kbs/v0/resource/<path>, JWE opened
//
// begin() sends {"version":"0.4.0","tee":"snp","extra-params":{...}} and keeps the cookie
// `kbs-session-id` from Set-Cookie (exactly one; a missing or malformed cookie is Errc::Network)
// and the `nonce` (a string of at most 1024 bytes, sent back verbatim). attest() sends
// {"init-data": {"format":"toml","body": initdata_toml} or null, "runtime-data": {"nonce",
// "tee-pubkey"}, "tee-evidence": {"primary_evidence": {"attestation_report", "cert_chain"},
// "additional_evidence": ""}} with the cookie, and checks that the reply holds a `token` (an EAR
// JWT) in wiping memory, then drops it: Trustee maps the cookie to the same token, and neither
// opens anything (every resource is encrypted to the TEE key). fetch() asks for each resource with
// the cookie and opens its flattened JWE with the session's TEE key (kbs/tee_key.h); resources
// marked `volume` go to Release::volumes (no recovery key: a KBS has none), the others to
// Release::secrets.
//
// A non-2xx reply is an Error whose message names the step (and, for a resource, its name and
// KBS path), the HTTP status, and Trustee's problem detail when the body is one
// ({"type": ".../errors/<Kind>", "detail": "..."}; only the Kind and the first 120 bytes of the
// detail are shown, as printable ASCII): Errc::Unavailable for 5xx, 408 and 429 (retry may help),
// Errc::Policy otherwise. last_status() tells the caller which status ended the session: on a 401
// the agent starts one new session (a new handshake) while the deadline allows, then gives up
// (agent/stage_retrieve.cc). Trustee answers 404 only for a path it cannot parse or a plugin it
// lacks; a resource its storage does not have is 401 PluginInternalError, like a policy denial
// (401 PolicyDeny) and an expired session (kbs/src/error.rs). Transport failures are the net
// layer's errors, prefixed with the step, and leave last_status() as it was. With a deadline,
// every request's time is bounded by what is left of it; none starts after it (Errc::Network).
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "kbs/tee_key.h"
#include "net/http_client.h"
#include "proto/release.h"
#include "snp/cert_table.h"

namespace cvm::client {

inline constexpr const char* KBS_PROTOCOL_VERSION = "0.4.0";

struct KbsResource {
    std::string name;  // our resource name (proto::valid_resource_name)
    std::string path;  // "<repository>/<type>/<tag>" (proto::valid_kbs_path)
    bool volume{false};
};

struct KbsOptions {
    std::string url;  // http(s)://host[:port], no path
    std::vector<KbsResource> resources;
    std::optional<std::string> initdata_toml;  // the exact init-data document, when HOST_DATA binds one
    net::HttpOptions http;                     // total_timeout_ms: each request's at most
    std::optional<std::chrono::steady_clock::time_point> deadline;  // the boot's
};

class KbsSession {
public:
    static Result<KbsSession> begin(const KbsOptions& options);

    const std::string& nonce() const { return m_nonce; }
    const std::array<uint8_t, 64>& report_data() const { return m_report_data; }
    const kbs::TeeKey& tee_key() const { return m_key; }

    Result<void> attest(ByteView report, const std::vector<snp::CertEntry>& certs);
    Result<proto::Release> fetch();

    int last_status() const { return m_last_status; }  // 0 when no reply was an error

private:
    KbsSession(KbsOptions options, kbs::TeeKey key) : m_options(std::move(options)), m_key(std::move(key)) {}

    KbsOptions m_options;
    kbs::TeeKey m_key;
    std::string m_cookie;  // "kbs-session-id=<id>"
    std::string m_nonce;
    std::array<uint8_t, 64> m_report_data{};
    bool m_attested{false};
    int m_last_status{0};
};

}  // namespace cvm::client
