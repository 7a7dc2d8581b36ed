// The attest-ratls endpoint (docs/cvmkb-1.md, "The RA-TLS transport"): attest's steps in attest's
// order, with the evidence taken from the TLS client certificate instead of the body. The TLS
// layer has already proved that the client holds the certificate's private key (net/tls.h,
// ClientCertificates::Optional); everything else about the certificate is judged here.
#include "attempt.h"
#include "broker.h"
#include "proto/tags.h"
#include "ratls/ratls.h"
#include "ratls/verify.h"
#include "snp/report.h"
#include "verify/evidence.h"

namespace cvm::broker {

namespace {

constexpr const char* CLIENT_CERTIFICATE = "client_certificate";  // the claim of certificate refusals

// Step 3 of docs/cvmkb-1.md §5 for this transport: the subject evidence is the agent's RA-TLS
// binding for the broker (a workload's certificate never is: proto/tags.h), made with the cvmkb/1
// report_data of this request, and the report's REPORT_DATA binds it to the certificate's key.
// Checked before any VEK is fetched, as attest checks REPORT_DATA first.
Result<void> check_binding(Broker::Attempt& a, const ratls::Certificate& cert, const snp::AttestationReport& report,
                           const proto::ReportData& expected)
{
    const ratls::CertEvidence& evidence = cert.evidence.subject;
    if (evidence.binding != proto::RATLS_BROKER_TAG)
        return refuse(a, proto::ErrorCode::ReportDataMismatch,
                      "the client certificate's evidence is not the agent's RA-TLS binding for a cvmkb/1 broker",
                      "report_data", evidence.binding, {std::string(proto::RATLS_BROKER_TAG)});
    if (!std::equal(evidence.nonce.begin(), evidence.nonce.end(), expected.begin(), expected.end()))
        return refuse(a, proto::ErrorCode::ReportDataMismatch,
                      "the client certificate's evidence was made for another nonce, public key or request",
                      "report_data", to_hex(evidence.nonce), {to_hex(expected)});
    proto::ReportData bound = proto::ratls_broker(cert.spki, expected);
    if (bound != report.report_data)
        return refuse(a, proto::ErrorCode::ReportDataMismatch,
                      "REPORT_DATA is not the RA-TLS binding of the client certificate's key and this request",
                      "report_data", to_hex(report.report_data), {to_hex(bound)});
    return {};
}

}  // namespace

Result<proto::AttestAnswer> Broker::run_attest_ratls(Attempt& a, std::string_view body, ByteView client_cert)
{
    auto parsed = proto::parse_attest_ratls_request(body);
    if (!parsed)
        return refuse(a, proto::ErrorCode::BadRequest, std::string(parsed.error().message()));
    proto::AttestRatlsRequest& req = parsed.value();
    a.resources = req.resources;
    a.volumes = req.volumes;

    // Step 1, parsing only, before the nonce is used: the certificate, its evidence, the report
    // and the certificates that came with it.
    if (client_cert.empty())
        return refuse(a, proto::ErrorCode::BadRequest,
                      "attest-ratls needs the agent's RA-TLS certificate as the TLS client certificate (mutual TLS "
                      "to an https:// broker)",
                      CLIENT_CERTIFICATE, "none");
    auto cert = ratls::parse_certificate(client_cert);
    if (!cert)
        return refuse(a, proto::ErrorCode::BadRequest,
                      "the TLS client certificate is not an RA-TLS certificate: " + std::string(cert.error().message()),
                      CLIENT_CERTIFICATE);
    const ratls::CertEvidence& subject = cert->evidence.subject;
    auto report = snp::parse_report(subject.report);
    if (!report)
        return refuse(a, proto::ErrorCode::ReportFormat, std::string(report.error().message()), "report.format");
    a.measurement = to_hex(report->measurement);
    a.chip = to_hex(ByteView(report->chip_id).first(8));
    a.report_id = to_hex(report->report_id);
    auto certs = verify::evidence_from_cert_list(subject.report, subject.certs);
    if (!certs)
        return refuse(a, proto::ErrorCode::BadRequest, std::string(certs.error().message()), "certs");

    TRY(use_nonce(a, req.nonce));

    proto::ReportData expected = proto::report_data(req.nonce, req.pubkey, proto::request_hash(req.canonical_request));
    TRY(check_binding(a, cert.value(), report.value(), expected));
    // The agent signs its own client certificate; one issued by another key (the agent's
    // per-boot key issues workload certificates) is not what this endpoint takes.
    if (cert->evidence.issuer)
        return refuse(a, proto::ErrorCode::BadRequest,
                      "the RA-TLS client certificate must be self-signed by the key it binds; this one names an issuer",
                      CLIENT_CERTIFICATE, "issued", {"self-signed"});

    // Step 4 on: the VEK and the CRL as attest gets them, then the certificate's own checks
    // (binding again, self-signature) and the report's chain and signature, then the policy.
    verify::Evidence evidence = TRY(evidence_for(a, certs.release_value(), report.value()));
    verify::VerifyOptions options;
    TRY(add_crl(a, evidence, report.value(), options));
    ratls::Expectation expect{std::string(proto::RATLS_BROKER_TAG), Bytes(expected.begin(), expected.end())};
    // verify_certificate builds the evidence from the same report and certificates; the broker's
    // VEK and CRL replace what the certificate could not carry.
    ratls::RatlsVerification verification = ratls::verify_certificate(
        cert.value(), expect, *m_verifier, options, [&evidence](verify::Evidence& e) { e = evidence; });
    a.simulated = verification.subject.anchor == verify::Anchor::CallerSupplied;
    for (const Claim& c : verification.claims) {
        if (c.pass)
            continue;
        bool binding = c.name == "ratls.subject_binding" || c.name == "ratls.nonce";
        return refuse(a, binding ? proto::ErrorCode::ReportDataMismatch : proto::ErrorCode::BadRequest,
                      c.detail.empty() ? "RA-TLS claim failed" : c.detail, binding ? "report_data" : c.name, c.found,
                      {c.expected});
    }
    TRY(check_policy(a, verification.subject));
    return seal_release(a, report.value(), req.pubkey, expected);
}

}  // namespace cvm::broker
