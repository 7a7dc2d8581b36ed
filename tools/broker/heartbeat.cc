// The heartbeat endpoint (docs/cvmkb-1.md §9): the attest steps up to the policy, nothing
// released, the verdict signed over the request body, the VM's last-seen time recorded.
#include <chrono>

#include "attempt.h"
#include "proto/heartbeat.h"
#include "responses.h"

namespace cvm::broker {
namespace {

// Refusals that come after the report's chain and signature verified: its REPORT_ID and
// MEASUREMENT are the platform's, not whatever a sender wrote.
bool evidence_verified(proto::ErrorCode code)
{
    using proto::ErrorCode;
    return code == ErrorCode::MeasurementMismatch || code == ErrorCode::TcbTooLow || code == ErrorCode::DebugAllowed ||
           code == ErrorCode::Vmpl || code == ErrorCode::SimulatedNotAllowed || code == ErrorCode::PolicyDenied;
}

VmRecord accepted_vm(const Broker::Attempt& a, int64_t interval, int64_t time)
{
    VmRecord vm;
    vm.report_id = a.report_id;
    vm.measurement = a.measurement;
    vm.interval = interval;
    vm.last_seen = time;
    vm.simulated = a.simulated;
    return vm;
}

}  // namespace

net::HttpResponse Broker::heartbeat(const net::HttpRequest& request)
{
    auto started = std::chrono::steady_clock::now();
    Attempt a;
    a.peer = request.peer;
    std::string_view body(reinterpret_cast<const char*>(request.body.data()), request.body.size());
    auto parsed = proto::parse_heartbeat_request(body);
    if (!parsed) {  // nothing to bind a verdict to: an ordinary, unsigned error object
        m_metrics.heartbeat(false, "BAD_REQUEST", false);
        log("cvm broker: heartbeat refused code=BAD_REQUEST peer=" + a.peer + " detail=\"" +
            log_value(std::string(parsed.error().message())) + "\"");
        return error_response(proto::error_body(proto::ErrorCode::BadRequest, std::string(parsed.error().message())));
    }
    const proto::HeartbeatRequest& req = parsed.value();
    auto report = check_evidence(a, {req.nonce, req.pubkey, req.canonical_request, req.report, req.certs});
    if (!report && !a.refusal)  // a failure outside the refusal paths: ours, not the agent's
        refuse(a, proto::ErrorCode::Internal, std::string(report.error().message()));
    int64_t time = now();

    proto::HeartbeatVerdict verdict;
    verdict.accepted = report.ok();
    std::string note;
    if (report) {
        verdict.interval = req.interval;
        verdict.measurement = a.measurement;
        verdict.report_id = a.report_id;
        verdict.time = time;
        if (auto recorded = m_heartbeats.accepted(accepted_vm(a, req.interval, time)); !recorded)
            note = " store=\"" + log_value(std::string(recorded.error().message())) + "\" (recorded in memory only)";
    } else {
        verdict.refusal = *a.refusal;
        verdict.refusal->simulated = false;  // not part of the signed verdict; sent beside it
        std::string code(proto::error_code_name(a.refusal->code));
        // A VM this broker knows, refused: on_refused, at most once per declared interval.
        std::optional<VmRecord> known =
            a.report_id.empty() ? std::nullopt : m_heartbeats.refused(a.report_id, code, time);
        if (known && m_webhooks && (known->last_refused == 0 || time - known->last_refused >= known->interval)) {
            WebhookEvent e;
            e.kind = WebhookEvent::Kind::Refused;
            e.report_id = a.report_id;
            e.measurement = a.measurement;
            e.last_seen = known->last_seen;
            e.interval = known->interval;
            e.time = time;
            e.simulated = a.simulated;
            e.code = code;
            e.claim = a.refusal->claim;
            e.detail = a.refusal->detail;
            e.verified = evidence_verified(a.refusal->code);
            m_webhooks->enqueue(std::move(e));
        }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string code = report ? "OK" : std::string(proto::error_code_name(a.refusal->code));
    m_metrics.heartbeat(report.ok(), code, a.simulated);
    std::string line = std::string("cvm broker: heartbeat ") + (report ? "accepted" : "refused") + " code=" + code;
    if (!report && !a.refusal->claim.empty())
        line += " claim=" + a.refusal->claim;
    if (!report && !a.refusal->got.empty())
        line += " found=\"" + log_value(a.refusal->got) + "\"";
    if (!report && a.refusal->code == proto::ErrorCode::Internal)
        line += " detail=\"" + log_value(a.refusal->detail) + "\"";
    line += " peer=" + a.peer + " report_id=" + (a.report_id.empty() ? "-" : a.report_id) +
            " measurement=" + (a.measurement.empty() ? "-" : a.measurement) +
            " interval=" + std::to_string(req.interval) + (a.simulated ? " SIMULATED" : "") + note +
            " ms=" + std::to_string(static_cast<int64_t>(seconds * 1000));
    log(line);

    auto answer = proto::serialize_heartbeat_answer(*m_config.signing_key, request.body, verdict, a.simulated);
    if (!answer)
        return error_response(proto::error_body(proto::ErrorCode::Internal, std::string(answer.error().message())));
    net::HttpResponse r = json_response(report ? 200 : proto::http_status(a.refusal->code), answer.release_value());
    if (!report && proto::is_retryable(a.refusal->code))
        r.headers.add("Retry-After", "5");
    return r;
}

}  // namespace cvm::broker
