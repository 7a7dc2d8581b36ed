#include "proto/errors.h"

#include <array>

namespace cvm::proto {
namespace {

struct Entry {
    ErrorCode code;
    std::string_view name;
    int status;
    bool retryable;
};

constexpr std::array<Entry, 24> TABLE = {{
    {ErrorCode::BadRequest, "BAD_REQUEST", 400, false},
    {ErrorCode::NotFound, "NOT_FOUND", 404, false},
    {ErrorCode::MethodNotAllowed, "METHOD_NOT_ALLOWED", 405, false},
    {ErrorCode::NonceUnknown, "NONCE_UNKNOWN", 403, false},
    {ErrorCode::NonceExpired, "NONCE_EXPIRED", 403, true},
    {ErrorCode::NonceReused, "NONCE_REUSED", 403, false},
    {ErrorCode::ReportFormat, "REPORT_FORMAT", 400, false},
    {ErrorCode::ReportDataMismatch, "REPORT_DATA_MISMATCH", 403, false},
    {ErrorCode::Signature, "SIGNATURE", 403, false},
    {ErrorCode::Chain, "CHAIN", 403, false},
    {ErrorCode::MeasurementMismatch, "MEASUREMENT_MISMATCH", 403, false},
    {ErrorCode::TcbTooLow, "TCB_TOO_LOW", 403, false},
    {ErrorCode::DebugAllowed, "DEBUG_ALLOWED", 403, false},
    {ErrorCode::Vmpl, "VMPL", 403, false},
    {ErrorCode::SimulatedNotAllowed, "SIMULATED_NOT_ALLOWED", 403, false},
    {ErrorCode::PolicyDenied, "POLICY_DENIED", 403, false},
    {ErrorCode::UnknownResource, "UNKNOWN_RESOURCE", 403, false},
    {ErrorCode::ResourceNotAllowed, "RESOURCE_NOT_ALLOWED", 403, false},
    {ErrorCode::KdsUnavailable, "KDS_UNAVAILABLE", 503, true},
    {ErrorCode::KdsBudget, "KDS_BUDGET", 429, true},
    {ErrorCode::StoreUnavailable, "STORE_UNAVAILABLE", 503, true},
    {ErrorCode::AlreadyReleased, "ALREADY_RELEASED", 403, false},
    {ErrorCode::VolumeRollback, "VOLUME_ROLLBACK", 403, false},
    {ErrorCode::Internal, "INTERNAL", 500, false},
}};

const Entry& entry(ErrorCode code)
{
    for (const Entry& e : TABLE) {
        if (e.code == code)
            return e;
    }
    return TABLE.back();
}

}  // namespace

std::string_view error_code_name(ErrorCode code)
{
    return entry(code).name;
}
int http_status(ErrorCode code)
{
    return entry(code).status;
}
bool is_retryable(ErrorCode code)
{
    return entry(code).retryable;
}

std::optional<ErrorCode> error_code_from_name(std::string_view name)
{
    for (const Entry& e : TABLE) {
        if (e.name == name)
            return e.code;
    }
    return std::nullopt;
}

}  // namespace cvm::proto
