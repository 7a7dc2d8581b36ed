#include "client/heartbeat.h"

#include "client/session.h"
#include "proto/binding.h"
#include "proto/hpke.h"

namespace cvm::client {
namespace {

ByteView text_bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Result<net::HttpResponse> post(const HeartbeatOptions& o, std::string_view path, std::string_view body)
{
    net::Headers headers{{"Content-Type", std::string(proto::JSON_TYPE)}};
    return net::http_post(o.broker_url + std::string(path), text_bytes(body), headers, o.http);
}

}  // namespace

Result<proto::HeartbeatVerdict> heartbeat(const HeartbeatOptions& options, const EvidenceSource& evidence)
{
    std::string canonical = TRY(proto::canonical_heartbeat_request(options.interval));
    net::HttpResponse challenge = TRY(post(options, proto::CHALLENGE_PATH, "{}"));
    if (challenge.status != 200)
        return refusal_error(challenge, nullptr).prefix("heartbeat challenge");
    proto::Challenge c = TRY_PREFIX(proto::parse_challenge(challenge.body_text()), "broker challenge");

    proto::X25519KeyPair key = proto::X25519KeyPair::generate();
    proto::HeartbeatRequest request;
    request.nonce = c.nonce;
    request.pubkey = key.public_key();
    request.interval = options.interval;
    request.canonical_request = canonical;
    HeartbeatEvidence got = TRY(evidence(proto::report_data(c.nonce, request.pubkey, proto::request_hash(canonical))));
    request.report = std::move(got.report);
    request.certs = std::move(got.certs);
    std::string body = proto::serialize_heartbeat_request(request);

    net::HttpResponse response = TRY(post(options, proto::HEARTBEAT_PATH, body));
    auto verdict = proto::open_heartbeat_answer(options.broker_key, text_bytes(body), response.body_text());
    if (verdict)
        return verdict;
    if (verdict.error().code() == Errc::Crypto)
        return verdict.release_error();
    if (response.status == 200)
        return verdict.release_error().prefix("broker heartbeat answer");
    Error refusal = refusal_error(response, nullptr);
    return Error::make(refusal.code() == Errc::Unavailable ? Errc::Unavailable : Errc::Network,
                       "unsigned refusal, not acted on: %.*s", static_cast<int>(refusal.message().size()),
                       refusal.message().data());
}

bool is_evidence_refusal(proto::ErrorCode code)
{
    using proto::ErrorCode;
    switch (code) {
    case ErrorCode::ReportFormat:
    case ErrorCode::ReportDataMismatch:
    case ErrorCode::Signature:
    case ErrorCode::Chain:
    case ErrorCode::MeasurementMismatch:
    case ErrorCode::TcbTooLow:
    case ErrorCode::DebugAllowed:
    case ErrorCode::Vmpl:
    case ErrorCode::SimulatedNotAllowed:
    case ErrorCode::PolicyDenied: return true;
    default: return false;
    }
}

}  // namespace cvm::client
