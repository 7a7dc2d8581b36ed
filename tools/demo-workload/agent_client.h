// The workload's side of the agent API (docs/agent-api.md): HTTP/1.1 requests over the Unix
// socket /run/cvminit/agent.sock, answers read by the same bounded llhttp parser the agent's
// server uses (net/http_parser.h), and a P-256 key of the workload's own for
// POST /v1/tls-certificate. Used by the demo workload's --agent-probe mode, by the workload's
// RA-TLS HTTPS server (ratls/https_server.h: agent_certificate_source), and by tests.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"

namespace cvm::workload {

inline constexpr const char* AGENT_SOCKET = "/run/cvminit/agent.sock";
inline constexpr size_t MAX_ANSWER_BYTES = 256 * 1024;  // an evidence answer is under 16 KiB

struct AgentAnswer {
    int status{0};
    std::string body;  // JSON
};

// One request (body sent as application/json when not empty) within `timeout_ms`. Errc::Io
// naming the socket when it cannot be reached, Errc::Network for a malformed or oversized answer;
// an HTTP error status is an answer, not an error.
Result<AgentAnswer> agent_request(const std::string& socket_path, std::string_view method, std::string_view target,
                                  std::string_view body = {}, int64_t timeout_ms = 10000);

// The message of an error answer {"error": {"code", "message"}} as "<status> <code>: <message>",
// or the raw body when it is not one.
std::string describe_error(const AgentAnswer& answer);

// A P-256 key pair made with mbedTLS; the private key stays in the workload.
struct WorkloadKey {
    std::string public_key_pem;   // "PUBLIC KEY" (SubjectPublicKeyInfo)
    SecretBytes private_key_pem;  // SEC1 "EC PRIVATE KEY"
};
Result<WorkloadKey> generate_p256_key();

struct TlsCertificate {
    std::string certificate_pem;  // the leaf for the workload's key, with its RA-TLS evidence
    std::string issuer_pem;       // the agent's per-boot key, self-signed, with its evidence
};

// POST /v1/tls-certificate for `public_key_pem` with `dns_names` and `nonce` (0..64 bytes).
// A non-200 answer is Errc::Unavailable (429, 503) or Errc::Io, naming the agent's error.
Result<TlsCertificate> request_tls_certificate(const std::string& socket_path, std::string_view public_key_pem,
                                               const std::vector<std::string>& dns_names, ByteView nonce);

// For ratls::start_https_server's CertificateSource: the leaf (PEM bytes) for `nonce`.
std::function<Result<Bytes>(ByteView nonce)>
agent_certificate_source(std::string socket_path, std::string public_key_pem, std::vector<std::string> dns_names);

}  // namespace cvm::workload
