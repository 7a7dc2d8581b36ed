// The cvmkb/1 error codes (docs/cvmkb-1.md §7): what a refusal means, which HTTP status carries
// it, and whether the agent may retry (a fresh challenge, after a backoff).
#pragma once

#include <optional>
#include <string_view>

namespace cvm::proto {

enum class ErrorCode : uint8_t {
    BadRequest,           // 400: the body is not a well-formed message
    NotFound,             // 404: no such endpoint
    MethodNotAllowed,     // 405
    NonceUnknown,         // 403: not a nonce this broker (group) issued
    NonceExpired,         // 403, retryable: get a new challenge
    NonceReused,          // 403: the nonce was already used (a replay)
    ReportFormat,         // 400: the report does not parse
    ReportDataMismatch,   // 403: REPORT_DATA is not the binding of nonce, key and request
    Signature,            // 403: the report's signature does not verify
    Chain,                // 403: the VCEK/VLEK chain is not rooted in a trusted ARK
    MeasurementMismatch,  // 403
    TcbTooLow,            // 403
    DebugAllowed,         // 403: POLICY.DEBUG is set
    Vmpl,                 // 403: the report came from a VMPL the policy does not accept
    SimulatedNotAllowed,  // 403: simulated evidence, and the policy does not allow it
    PolicyDenied,         // 403: any other policy claim failed
    UnknownResource,      // 403: the request names a resource the broker does not have
    ResourceNotAllowed,   // 403: the measurement may not have a requested resource
    KdsUnavailable,       // 503, retryable: no VCEK, and AMD's KDS cannot be reached
    KdsBudget,            // 429, retryable: this client's budget of KDS look-ups for uncached chips is spent
    StoreUnavailable,     // 503, retryable: the broker's shared store cannot record the nonce or release
    AlreadyReleased,      // 403: a once_per_launch resource already went to another key of this launch
    VolumeRollback,       // 403: a volume's reported generation is not the one the broker last issued
    Internal,             // 500
};

std::string_view error_code_name(ErrorCode code);  // "NONCE_EXPIRED"
std::optional<ErrorCode> error_code_from_name(std::string_view name);
int http_status(ErrorCode code);
bool is_retryable(ErrorCode code);

}  // namespace cvm::proto
