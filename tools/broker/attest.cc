// The attest endpoint: the steps of broker.h, one function each, and the verdict's log line.
#include <algorithm>
#include <chrono>

#include "attempt.h"
#include "base/bytes.h"
#include "broker.h"
#include "policy/policy.h"
#include "proto/answer.h"
#include "proto/release.h"
#include "responses.h"
#include "snp/amd_extensions.h"
#include "snp/report.h"
#include "verify/evidence.h"

namespace cvm::broker {

Error refuse(Broker::Attempt& a, proto::ErrorCode code, std::string detail, std::string claim, std::string got,
             std::vector<std::string> expected)
{
    a.refusal = proto::error_body(code, std::move(detail));
    a.refusal->claim = std::move(claim);
    a.refusal->got = std::move(got);
    a.refusal->expected = std::move(expected);
    a.refusal->simulated = a.simulated;
    return Error::make(Errc::Policy, "refused");
}

namespace {

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

// The claim to report when several fail, in the order of docs/cvmkb-1.md §5 whatever order the
// verifier produced them in: the report's format, then the chain (CHAIN: a report signature
// checked with an unproven key proves nothing, so its failure is never the one reported while the
// chain fails), then the signature, then the policy (simulated first, then the measurement).
const Claim* first_failure(const std::vector<Claim>& claims)
{
    auto first = [&](auto wanted) -> const Claim* {
        for (const Claim& c : claims) {
            if (!c.pass && wanted(c))
                return &c;
        }
        return nullptr;
    };
    auto chain = [](const Claim& c) { return code_for_claim(c.name) == proto::ErrorCode::Chain; };
    for (const Claim* c : {first([](const Claim& c) { return c.name == "report.format"; }), first(chain),
                           first([](const Claim& c) { return c.name == "report.signature"; }),
                           first([](const Claim& c) { return c.name == "policy.simulated"; }),
                           first([](const Claim& c) { return c.name == "policy.measurement"; })}) {
        if (c)
            return c;
    }
    return first([](const Claim&) { return true; });
}

// A claim's expected text as the list of values that would pass: policy.cc's list_hex() joins
// alternatives (measurements, key digests) with " | ".
std::vector<std::string> expected_values(const std::string& expected)
{
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t bar; (bar = expected.find(" | ", start)) != std::string::npos; start = bar + 3)
        out.push_back(expected.substr(start, bar - start));
    out.push_back(expected.substr(start));
    return out;
}

// " volumes=data:ready:5,logs:blank:0" for the log line, "" when the request reported none.
std::string volumes_field(const std::vector<proto::VolumeReport>& volumes)
{
    std::vector<std::string> items;
    for (const proto::VolumeReport& v : volumes)
        items.push_back(v.name + ":" + std::string(proto::volume_state_name(v.state)) + ":" +
                        std::to_string(v.generation));
    return items.empty() ? "" : " volumes=" + join(items);
}

}  // namespace

std::string join(const std::vector<std::string>& names, const char* separator)
{
    std::string out;
    for (const std::string& n : names)
        out += (out.empty() ? "" : separator) + n;
    return out.empty() ? "-" : out;
}

std::string log_value(std::string v)
{
    for (char& c : v) {
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '?';
    }
    return v;
}

net::HttpResponse Broker::attest(const net::HttpRequest& request)
{
    auto started = std::chrono::steady_clock::now();
    Attempt attempt;
    attempt.peer = request.peer;
    std::string_view body(reinterpret_cast<const char*>(request.body.data()), request.body.size());
    bool ratls = std::string_view(request.target).substr(0, request.target.find('?')) == proto::ATTEST_RATLS_PATH;
    Result<proto::AttestAnswer> answer =
        ratls ? run_attest_ratls(attempt, body, request.peer_certificate) : run_attest(attempt, body);
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
    if (!answer && !attempt.refusal->got.empty())  // what was found and expected: TCB values, measurement...
        line += " found=\"" + log_value(attempt.refusal->got) + "\"";
    if (!answer && !attempt.refusal->expected.empty())
        line += " expected=\"" + log_value(join(attempt.refusal->expected, " | ")) + "\"";
    line += " peer=" + attempt.peer + " measurement=" + (attempt.measurement.empty() ? "-" : attempt.measurement) +
            " chip=" + (attempt.chip.empty() ? "-" : attempt.chip) + " resources=" + join(attempt.resources) +
            volumes_field(attempt.volumes) + (ratls ? " transport=ratls" : "") +
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
    a.volumes = req.volumes;

    snp::AttestationReport report =
        TRY(check_evidence(a, {req.nonce, req.pubkey, req.canonical_request, req.report, req.certs}));
    return seal_release(a, report, req.pubkey, report.report_data);  // REPORT_DATA: the binding, checked above
}

Result<proto::AttestAnswer> Broker::seal_release(Attempt& a, const snp::AttestationReport& report,
                                                 const proto::X25519PublicKey& pubkey,
                                                 const proto::ReportData& report_data)
{
    proto::Release release = TRY(release_for(a, report));
    SecretBytes plaintext = TRY(proto::serialize_release(release));
    auto sealed = proto::seal_answer(*m_config.signing_key, pubkey, report_data, plaintext.expose());
    if (!sealed)  // a low-order X25519 point: nothing sealed to it stays secret
        return refuse(a, proto::ErrorCode::BadRequest, std::string(sealed.error().message()), "pubkey");
    // Last, once nothing but the volume step and sending is left. A volume refusal after this
    // leaves the launch's resources recorded for the agent's own key, which is all a record
    // allows: the same key again, and only it.
    TRY(record_once_per_launch(a, report, pubkey));
    // The volume generations (docs/cvmkb-1.md §5 step 8; volume_reports.cc). A recovery key that
    // is due goes into the release, which is then sealed again.
    bool recovery = false;
    for (proto::ReleasedVolume& v : release.volumes) {
        TRY(judge_volume(a, *volume_resource(v.name), v));
        recovery |= !v.recovery.empty();
    }
    if (recovery) {
        plaintext = TRY(proto::serialize_release(release));
        sealed = proto::seal_answer(*m_config.signing_key, pubkey, report_data, plaintext.expose());
        if (!sealed)
            return sealed.release_error();
    }
    // The generation records, written by compare-and-set once nothing but sending is left.
    TRY(record_volumes(a));
    proto::AttestAnswer answer = sealed.release_value();
    answer.simulated = a.simulated;
    return answer;
}

Result<snp::AttestationReport> Broker::check_evidence(Attempt& a, const EvidenceInput& in)
{
    // Everything that only parses comes before the nonce is used, so that a malformed report or
    // certificate can be corrected and sent again with the same nonce (docs/cvmkb-1.md §5).
    auto report = snp::parse_report(in.report);
    if (!report)
        return refuse(a, proto::ErrorCode::ReportFormat, std::string(report.error().message()), "report.format");
    a.measurement = to_hex(report->measurement);
    a.chip = to_hex(ByteView(report->chip_id).first(8));
    a.report_id = to_hex(report->report_id);
    auto certs = verify::evidence_from_cert_list(in.report, in.certs);
    if (!certs)
        return refuse(a, proto::ErrorCode::BadRequest, std::string(certs.error().message()), "certs");

    TRY(use_nonce(a, in.nonce));

    proto::ReportData expected = proto::report_data(in.nonce, in.pubkey, proto::request_hash(in.canonical_request));
    if (expected != report->report_data)
        return refuse(a, proto::ErrorCode::ReportDataMismatch,
                      "REPORT_DATA is not the cvmkb/1 binding of this nonce, public key and request", "report_data",
                      to_hex(report->report_data), {to_hex(expected)});

    verify::Evidence evidence = TRY(evidence_for(a, certs.release_value(), report.value()));
    verify::VerifyOptions options;
    TRY(add_crl(a, evidence, report.value(), options));
    verify::Verification verification = m_verifier->verify(evidence, options);
    a.simulated = verification.anchor == verify::Anchor::CallerSupplied;
    TRY(check_policy(a, verification));
    return report.release_value();
}

Result<void> Broker::use_nonce(Attempt& a, const proto::Nonce& nonce)
{
    auto check = m_nonces->check_and_use(nonce, now());
    if (!check && check.error().code() == Errc::Unavailable)  // not recorded: nothing may be released
        return refuse(a, proto::ErrorCode::StoreUnavailable, std::string(check.error().message()), "nonce");
    switch (TRY(std::move(check))) {
    case NonceCheck::Fresh: break;
    case NonceCheck::Invalid:
        return refuse(a, proto::ErrorCode::NonceUnknown, "the nonce was not issued by this broker", "nonce");
    case NonceCheck::Expired:
        return refuse(a, proto::ErrorCode::NonceExpired, "the nonce has expired: ask for a new challenge", "nonce");
    case NonceCheck::BeforeStart:
        return refuse(a, proto::ErrorCode::NonceExpired,
                      "the nonce was issued before this broker restarted, which forgot the nonces used until then: "
                      "ask for a new challenge",
                      "nonce");
    case NonceCheck::Reused: return refuse(a, proto::ErrorCode::NonceReused, "the nonce was already used", "nonce");
    }
    return {};
}

Result<verify::Evidence> Broker::evidence_for(Attempt& a, verify::Evidence evidence,
                                              const snp::AttestationReport& report)
{
    if (!evidence.vek.empty())
        return evidence;
    if (report.signing_key == snp::SigningKey::Vlek)
        return refuse(a, proto::ErrorCode::Chain, "a VLEK-signed report must carry its VLEK in certs", "certs");
    if (!m_vceks)
        return refuse(a, proto::ErrorCode::Chain, "the request has no VCEK and this broker has no [kds] to ask",
                      "certs");
    VcekAnswer vcek = m_vceks->vcek_for(report, a.peer);
    if (!vcek.ok()) {
        proto::ErrorCode code = vcek.refusal == VcekRefusal::KdsUnavailable ? proto::ErrorCode::KdsUnavailable
                                : vcek.refusal == VcekRefusal::ClientBudget ? proto::ErrorCode::KdsBudget
                                                                            : proto::ErrorCode::Chain;
        return refuse(a, code, std::string(vcek.error.message()), "vcek");
    }
    evidence.vek = std::move(*vcek.vcek);
    return evidence;
}

Result<void> Broker::add_crl(Attempt& a, verify::Evidence& evidence, const snp::AttestationReport& report,
                             verify::VerifyOptions& options)
{
    evidence.crl.clear();  // cvmkb/1 carries no CRL; whatever is here is not the broker's own
    if (!m_config.policy.revocation) {
        options.revocation_off_by = "policy revocation = false";
        return {};
    }
    options.crl_now = now();
    if (const Bytes* crl = simulated_crl_for(evidence)) {
        evidence.crl = *crl;  // empty for a root without one: chain.revocation then fails, naming why
        return {};
    }
    // AMD-rooted (or claiming to be): the product line's CRL of the signing key's family. A wrong
    // guess fails closed: the CRL's issuer and signature must match the ARK the verifier picks.
    std::optional<snp::Product> product = report.cpuid_product();
    if (!product) {  // VERSION 2 reports have no CPUID: the VEK's productName says it
        if (auto vek = verify::Certificate::parse(evidence.vek)) {
            if (auto ext = snp::parse_amd_extensions(vek->extensions()); ext && ext->product_name)
                product = snp::product_from_name(*ext->product_name);
        }
    }
    if (!product)
        return refuse(a, proto::ErrorCode::Chain,
                      "the product line is unknown (no CPUID in the report, no productName in the VEK), so there "
                      "is no CRL to check revocation against",
                      "chain.revocation", "unknown product line", {"a report or VEK naming Milan, Genoa or Turin"});
    if (!m_vceks)
        return refuse(a, proto::ErrorCode::Chain,
                      "revocation is on and this broker has no [kds] to fetch AMD's CRL from (add [kds], or set "
                      "policy.revocation = false)",
                      "chain.revocation", "no CRL", {"AMD's CRL from KDS"});
    kds::KeyFamily family = report.signing_key == snp::SigningKey::Vlek ? kds::KeyFamily::Vlek : kds::KeyFamily::Vcek;
    CrlAnswer crl = m_vceks->crl_for(*product, family);
    if (!crl.ok()) {
        proto::ErrorCode code =
            crl.refusal == VcekRefusal::KdsUnavailable ? proto::ErrorCode::KdsUnavailable : proto::ErrorCode::Chain;
        return refuse(a, code, std::string(crl.error.message()), "chain.revocation", "no CRL",
                      {"AMD's current CRL from KDS " + kds::crl_path(*product, family)});
    }
    evidence.crl = std::move(*crl.crl);
    return {};
}

const Bytes* Broker::simulated_crl_for(const verify::Evidence& evidence) const
{
    // The verifier decides for itself which root anchors the evidence; this only picks the CRL,
    // and a wrong pick fails the revocation claim, never passes it.
    if (m_simulated.empty() || (evidence.ark.empty() && evidence.ask.empty()))
        return nullptr;
    auto ark = evidence.ark.empty() ? Result<verify::Certificate>(Error::make(Errc::Chain, "no ARK"))
                                    : verify::Certificate::parse(evidence.ark);
    auto ask = evidence.ark.empty() ? verify::Certificate::parse(evidence.ask)
                                    : Result<verify::Certificate>(Error::make(Errc::Chain, "not needed"));
    for (const SimulatedRoot& s : m_simulated) {
        if ((ark && s.root.fingerprint() == ark->fingerprint()) ||
            (ask && std::ranges::equal(s.root.subject_raw(), ask->issuer_raw())))
            return &s.crl;
    }
    return nullptr;
}

Result<void> Broker::check_policy(Attempt& a, const verify::Verification& v)
{
    std::vector<Claim> claims = v.claims;
    if (v.report && v.product) {
        auto origin = a.simulated ? policy::Origin::Simulated : policy::Origin::Amd;
        auto policy_claims = policy::evaluate(m_config.policy, *v.report, *v.product, origin);
        // A MEASUREMENT that policy.measurements does not list may be a shape of a fresh
        // release (releases.h), judged now: a release expires between two requests.
        for (Claim& c : policy_claims) {
            if (c.name == "policy.measurement")
                c = m_config.releases.measurement_claim(std::move(c), v.report->measurement, v.report->host_data,
                                                        now());
        }
        claims.insert(claims.end(), policy_claims.begin(), policy_claims.end());
    }
    const Claim* failed = first_failure(claims);
    if (!failed)
        return {};
    return refuse(a, code_for_claim(failed->name), failed->detail.empty() ? "claim failed" : failed->detail,
                  failed->name, failed->found, expected_values(failed->expected));
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
        const std::vector<std::string>& releases = secret ? secret->releases : volume->releases;
        const auto& host_data = secret ? secret->host_data : volume->host_data;
        bool listed = std::find(allowed->begin(), allowed->end(), report.measurement) != allowed->end();
        if (!listed && !releases.empty()) {
            ReleaseMatch m = m_config.releases.match(report.measurement, report.host_data, now(), &releases);
            if (!m.fresh)
                return refuse(
                    a, proto::ErrorCode::ResourceNotAllowed,
                    "this MEASUREMENT is in no fresh release of " + join(releases, ", ") +
                        (m.expired ? " (" + m.expired->label() + " expired)" : "") +
                        (m.other_host_data ? " (" + m.other_host_data->label() + " names another HOST_DATA)" : "") +
                        ", so it may not have the resource '" + name + "'",
                    "resource", name);
        } else if (!listed) {
            return refuse(a, proto::ErrorCode::ResourceNotAllowed,
                          "this MEASUREMENT may not have the resource '" + name + "'", "resource", name);
        }
        if (!host_data.empty() && std::find(host_data.begin(), host_data.end(), report.host_data) == host_data.end()) {
            std::vector<std::string> expected;
            for (const auto& h : host_data)
                expected.push_back(to_hex(h));
            return refuse(a, proto::ErrorCode::ResourceNotAllowed,
                          "HOST_DATA is not one the resource '" + name + "' is released to", "host_data",
                          to_hex(report.host_data), std::move(expected));
        }
        if (secret) {
            release.secrets.push_back({secret->name, SecretBytes::copy_of(secret->value.expose()), secret->env});
        } else {
            release.volumes.push_back({volume->name, SecretBytes::copy_of(volume->key.expose())});
        }
    }
    TRY(check_volume_names(a));
    return release;
}

Result<void> Broker::record_once_per_launch(Attempt& a, const snp::AttestationReport& report,
                                            const proto::X25519PublicKey& pubkey)
{
    for (const std::string& name : a.resources) {
        if (!once_per_launch(name))
            continue;
        // Kept without expiry: a launch may run for years, and only a record stops its workload.
        std::string key = store_keys::release(report.report_id, name);
        auto first = m_options.store->set_if_absent(key, pubkey, 0);
        auto holder = first && !first.value() ? m_options.store->get(key) : Result<std::optional<Bytes>>(std::nullopt);
        std::optional<Error> failed;
        if (!first)
            failed = first.release_error();
        else if (!holder)
            failed = holder.release_error();
        if (failed && failed->code() == Errc::Unavailable)
            return refuse(a, proto::ErrorCode::StoreUnavailable, std::string(failed->message()), "resource", name);
        if (failed)
            return *failed;
        // The same key again is an agent retrying after a lost answer: only it can open the answer.
        // A record that vanished between the two calls is not taken as consent: refused.
        if (!first.value() && (!holder.value() || !constant_time_equal(*holder.value(), pubkey)))
            return refuse(a, proto::ErrorCode::AlreadyReleased,
                          "the resource '" + name +
                              "' is released once per launch and already went to another key of this REPORT_ID",
                          "resource", name);
    }
    return {};
}

const VolumeResource* Broker::volume_resource(std::string_view name) const
{
    for (const VolumeResource& v : m_config.volumes) {
        if (v.name == name)
            return &v;
    }
    return nullptr;
}

bool Broker::once_per_launch(std::string_view name) const
{
    for (const SecretResource& s : m_config.secrets) {
        if (s.name == name)
            return s.once_per_launch;
    }
    for (const VolumeResource& v : m_config.volumes) {
        if (v.name == name)
            return v.once_per_launch;
    }
    return false;
}

}  // namespace cvm::broker
