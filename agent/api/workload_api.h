// The workload API's handler (docs/agent-api.md): routes one parsed HTTP request to
//
//   GET  /v1/info             what the agent's boot report says about this launch (no provider call)
//   POST /v1/evidence         a fresh report bound to the workload's user data
//   POST /v1/tls-certificate  an RA-TLS certificate for the workload's public key
//   POST /v1/seal             data sealed under an SNP derived key (agent/sealing/blob.h)
//   POST /v1/unseal           the data back, when this launch's derived key opens the blob
//
// and answers JSON, errors as {"error": {"code", "message"}}: 400 BAD_REQUEST (the message names
// the member, the value and what was expected), 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED,
// 429 RATE_LIMITED (with Retry-After), 500 PROVIDER (the provider's error, not retried),
// 503 PROVIDER_CLOSED (an earlier firmware error may have wiped the VMPCK: nothing is asked),
// 500 INTERNAL. The server's own refusals (json_refusal) use the same shape.
//
// REPORT_DATA is always one of the agent's own bindings (proto/tags.h); the workload supplies
// only the bound fields, never REPORT_DATA itself.
//
// Sealing: 400 BAD_REQUEST also when the provider refuses the request by name before the firmware
// (a policy the platform cannot serve: measurement-only without a VLEK; a blob whose TCB_VERSION
// is above this platform's COMMITTED_TCB), and 400 UNSEAL_FAILED when the key derived now does not
// open the blob. Derived keys are asked for on every request (through the gate, under the rate
// limit) and wiped when the answer is made: none is cached. The seal request's TCB_VERSION is
// the boot report's COMMITTED_TCB, which only ever grows, so it is never above the platform's.
// Bodies: MAX_SEAL_BODY for /v1/seal and /v1/unseal, MAX_BODY (413 TOO_LARGE) for the others.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/issuer.h"
#include "api/provider_gate.h"
#include "api/rate_limit.h"
#include "base/result.h"
#include "net/http.h"

namespace cvm::agent::api {

// GET /v1/info's content, from the report the agent got at boot.
struct BootInfo {
    std::string measurement;  // hex, as every field below
    std::string host_data;
    std::string report_id;
    std::string chip_id;  // empty when the report's is all zero (the host set MASK_CHIP_ID)
    uint32_t vmpl{0};
    std::string provider;                       // PROVIDER_*
    uint64_t committed_tcb{0};                  // raw COMMITTED_TCB: the TCB_VERSION sealing asks for
    std::array<uint8_t, 32> host_data_bytes{};  // HOST_DATA, which measurement sealing binds (sealing::launch_binding)
};

inline constexpr size_t MAX_BODY = 16 * 1024;
// A sealed blob of sealing::MAX_PLAINTEXT bytes in base64, its context and the JSON around them.
inline constexpr size_t MAX_SEAL_BODY = 96 * 1024;
// Errc::Format when `report` does not parse (snp::parse_report).
Result<BootInfo> boot_info_from_report(ByteView report, std::string_view provider);

struct ApiLimits {
    double reports_per_second = 10;  // token bucket over /v1/evidence and /v1/tls-certificate
    double report_burst = 20;
};

// {"error": {"code": code, "message": message}} with `status`.
net::HttpResponse json_error(int status, std::string_view code, std::string_view message);
// The server's own refusals in that shape (net::ServerOptions::refusal).
net::HttpResponse json_refusal(int status, std::string_view message);

class WorkloadApi {
public:
    // `gate` must outlive the API; `issuer` may be null (its key could not be made), and then
    // /v1/tls-certificate answers 500 INTERNAL.
    WorkloadApi(ProviderGate& gate, BootInfo info, std::unique_ptr<AgentIssuer> issuer, ApiLimits limits = {},
                TokenBucket::Clock clock = {});

    // Thread-safe; called concurrently by the server's connection threads.
    net::HttpResponse handle(const net::HttpRequest& request);

private:
    net::HttpResponse info() const;
    net::HttpResponse evidence(const net::HttpRequest& request);
    net::HttpResponse tls_certificate(const net::HttpRequest& request);
    net::HttpResponse seal(const net::HttpRequest& request);
    net::HttpResponse unseal(const net::HttpRequest& request);
    // nullopt when a token was taken; else the 429.
    std::optional<net::HttpResponse> rate_limited();

    ProviderGate& m_gate;
    const BootInfo m_info;
    std::unique_ptr<AgentIssuer> m_issuer;
    TokenBucket m_bucket;
};

}  // namespace cvm::agent::api
