// The attest endpoint: the steps of broker.h, one function each, and the verdict's log line.
#include <chrono>

#include "base/bytes.h"
#include "broker.h"
#include "policy/policy.h"
#include "proto/answer.h"
#include "proto/release.h"
#include "responses.h"
#include "snp/report.h"
#include "verify/evidence.h"

namespace cvm::broker {

struct Broker::Attempt {
    std::optional<proto::ErrorBody> refusal;
    bool simulated{false};
    std::string peer;
    std::string measurement;  // hex, once the report parsed
    std::string chip;         // first 8 bytes of CHIP_ID, hex
    std::vector<std::string> resources;
};

namespace {

// Records the refusal in the attempt and returns an Error so that TRY unwinds to attest().
Error refuse(Broker::Attempt& a, proto::ErrorCode code, std::string detail, std::string claim = {},
             std::string got = {}, std::vector<std::string> expected = {})
{
    a.refusal = proto::error_body(code, std::move(detail));
    a.refusal->claim = std::move(claim);
    a.refusal->got = std::move(got);
    a.refusal->expected = std::move(expected);
    a.refusal->simulated = a.simulated;
    return Error::make(Errc::Policy, "refused");
}

// The error code for a failing verification or policy claim.
proto::ErrorCode code_for_claim(std::string_view name)
{
    using proto::ErrorCode;
    if (name == "report.signature")
        return ErrorCode::Signature;
    if (name == "report.format")
        return ErrorCode::ReportFormat;
    if (name == "policy.simulated")
        return ErrorCode::SimulatedNotAllowed;
    if (name == "policy.measurement")
        return ErrorCode::MeasurementMismatch;
    if (name == "policy.debug")
        return ErrorCode::DebugAllowed;
    if (name == "policy.vmpl")
        return ErrorCode::Vmpl;
    if (name == "policy.min_tcb")
        return ErrorCode::TcbTooLow;
    if (name.starts_with("policy."))
        return ErrorCode::PolicyDenied;
    return ErrorCode::Chain;  // chain.*, vek.*, report.signing_key: who signed is not proven
}

// The claim to report when several fail: the one that explains the most.
const Claim* first_failure(const std::vector<Claim>& claims)
{
    for (std::string_view preferred : {"policy.simulated", "report.format", "report.signature", "policy.measurement"}) {
        for (const Claim& c : claims) {
            if (!c.pass && c.name == preferred)
                return &c;
        }
    }
    for (const Claim& c : claims) {
        if (!c.pass)
            return &c;
    }
    return nullptr;
}

std::string join(const std::vector<std::string>& names)
{
    std::string out;
    for (const std::string& n : names)
        out += (out.empty() ? "" : ",") + n;
    return out.empty() ? "-" : out;
}

}  // namespace

net::HttpResponse Broker::attest(const net::HttpRequest& request)
{
    auto started = std::chrono::steady_clock::now();
    Attempt attempt;
    attempt.peer = request.peer;
    std::string_view body(reinterpret_cast<const char*>(request.body.data()), request.body.size());
    Result<proto::AttestAnswer> answer = run_attest(attempt, body);
    if (!answer && !attempt.refusal)  // a failure outside the refusal paths: ours, not the agent's
        refuse(attempt, proto::ErrorCode::Internal, std::string(answer.error().message()));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    std::string code = answer ? "OK" : std::string(proto::error_code_name(attempt.refusal->code));
    m_metrics.attest(answer.ok(), code, attempt.simulated, seconds);
    std::string line = std::string("cvm broker: attest ") + (answer ? "released" : "refused") + " code=" + code;
    if (!answer && !attempt.refusal->claim.empty())
        line += " claim=" + attempt.refusal->claim;
    if (!answer && attempt.refusal->code == proto::ErrorCode::Internal)
        line += " detail=\"" + attempt.refusal->detail + "\"";  // our failure: the operator needs the cause
    line += " peer=" + attempt.peer + " measurement=" + (attempt.measurement.empty() ? "-" : attempt.measurement) +
            " chip=" + (attempt.chip.empty() ? "-" : attempt.chip) + " resources=" + join(attempt.resources) +
            (attempt.simulated ? " SIMULATED" : "") + " ms=" + std::to_string(static_cast<int64_t>(seconds * 1000));
    log(line);
    if (!answer)
        return error_response(*attempt.refusal);
    return json_response(200, proto::serialize_attest_answer(answer.value()));
}

Result<proto::AttestAnswer> Broker::run_attest(Attempt& a, std::string_view body)
{
    auto parsed = proto::parse_attest_request(body);
    if (!parsed)
        return refuse(a, proto::ErrorCode::BadRequest, std::string(parsed.error().message()));
    proto::AttestRequest& req = parsed.value();
    a.resources = req.resources;

    switch (m_nonces->check_and_use(req.nonce, now())) {
    case NonceCheck::Fresh: break;
    case NonceCheck::Invalid:
        return refuse(a, proto::ErrorCode::NonceUnknown, "the nonce was not issued by this broker", "nonce");
    case NonceCheck::Expired:
        return refuse(a, proto::ErrorCode::NonceExpired, "the nonce has expired: ask for a new challenge", "nonce");
    case NonceCheck::Reused: return refuse(a, proto::ErrorCode::NonceReused, "the nonce was already used", "nonce");
    }

    auto report = snp::parse_report(req.report);
    if (!report)
        return refuse(a, proto::ErrorCode::ReportFormat, std::string(report.error().message()), "report.format");
    a.measurement = to_hex(report->measurement);
    a.chip = to_hex(ByteView(report->chip_id).first(8));

    proto::ReportData expected = proto::report_data(req.nonce, req.pubkey, proto::request_hash(req.canonical_request));
    if (expected != report->report_data)
        return refuse(a, proto::ErrorCode::ReportDataMismatch,
                      "REPORT_DATA is not the cvmkb/1 binding of this nonce, public key and request", "report_data",
                      to_hex(report->report_data), {to_hex(expected)});

    verify::Evidence evidence = TRY(evidence_for(a, req, report.value()));
    verify::Verification verification = m_verifier->verify(evidence);
    a.simulated = verification.anchor == verify::Anchor::CallerSupplied;
    TRY(check_policy(a, verification));

    proto::Release release = TRY(release_for(a, report.value()));
    SecretBytes plaintext = TRY(proto::serialize_release(release));
    auto sealed = proto::seal_answer(*m_config.signing_key, req.pubkey, expected, plaintext.expose());
    if (!sealed)  // a low-order X25519 point: nothing sealed to it stays secret
        return refuse(a, proto::ErrorCode::BadRequest, std::string(sealed.error().message()), "pubkey");
    proto::AttestAnswer answer = sealed.release_value();
    answer.simulated = a.simulated;
    return answer;
}

Result<verify::Evidence> Broker::evidence_for(Attempt& a, const proto::AttestRequest& req,
                                              const snp::AttestationReport& report)
{
    auto evidence = verify::evidence_from_cert_list(req.report, req.certs);
    if (!evidence)
        return refuse(a, proto::ErrorCode::BadRequest, std::string(evidence.error().message()), "certs");
    if (!evidence->vek.empty())
        return evidence;
    if (report.signing_key == snp::SigningKey::Vlek)
        return refuse(a, proto::ErrorCode::Chain, "a VLEK-signed report must carry its VLEK in certs", "certs");
    if (!m_vceks)
        return refuse(a, proto::ErrorCode::Chain, "the request has no VCEK and this broker has no [kds] to ask",
                      "certs");
    auto vcek = m_vceks->vcek_for(report);
    if (!vcek) {
        bool down = vcek.error().code() == Errc::Unavailable;
        return refuse(a, down ? proto::ErrorCode::KdsUnavailable : proto::ErrorCode::Chain,
                      std::string(vcek.error().message()), "vcek");
    }
    evidence->vek = vcek.release_value();
    return evidence;
}

Result<void> Broker::check_policy(Attempt& a, const verify::Verification& v)
{
    std::vector<Claim> claims = v.claims;
    if (v.report && v.product) {
        auto origin = a.simulated ? policy::Origin::Simulated : policy::Origin::Amd;
        auto policy_claims = policy::evaluate(m_config.policy, *v.report, *v.product, origin);
        claims.insert(claims.end(), policy_claims.begin(), policy_claims.end());
    }
    const Claim* failed = first_failure(claims);
    if (!failed)
        return {};
    return refuse(a, code_for_claim(failed->name), failed->detail.empty() ? "claim failed" : failed->detail,
                  failed->name, failed->found, {failed->expected});
}

Result<proto::Release> Broker::release_for(Attempt& a, const snp::AttestationReport& report)
{
    proto::Release release;
    for (const std::string& name : a.resources) {
        const std::vector<policy::Measurement>* allowed = nullptr;
        const SecretResource* secret = nullptr;
        const VolumeResource* volume = nullptr;
        for (const SecretResource& s : m_config.secrets) {
            if (s.name == name)
                secret = &s, allowed = &s.measurements;
        }
        for (const VolumeResource& v : m_config.volumes) {
            if (v.name == name)
                volume = &v, allowed = &v.measurements;
        }
        if (!allowed)
            return refuse(a, proto::ErrorCode::UnknownResource, "the broker has no resource of this name", "resource",
                          name);
        if (std::find(allowed->begin(), allowed->end(), report.measurement) == allowed->end())
            return refuse(a, proto::ErrorCode::ResourceNotAllowed,
                          "this MEASUREMENT may not have the resource '" + name + "'", "resource", name);
        if (secret)
            release.secrets.push_back({secret->name, SecretBytes::copy_of(secret->value.expose()), secret->env});
        else
            release.volumes.push_back({volume->name, SecretBytes::copy_of(volume->key.expose())});
    }
    return release;
}

}  // namespace cvm::broker
