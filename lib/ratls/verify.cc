#include "ratls/verify.h"

#include <mbedtls/pk.h>

#include "crypto/digest.h"
#include "proto/tags.h"
#include "ratls/internal.h"
#include "snp/report.h"

namespace cvm::ratls {
namespace {

constexpr const char* NOT_CHECKED = "not checked";

Claim make(const char* name, bool pass, std::string found, std::string expected, std::string detail = {})
{
    return Claim{name, pass, std::move(found), std::move(expected), std::move(detail)};
}

std::string hex(ByteView data)
{
    return to_hex(data);
}

verify::Verification verify_evidence(const CertEvidence& e, verify::Verifier& verifier,
                                     const verify::VerifyOptions& options, const CompleteEvidence& complete)
{
    auto listed = verify::evidence_from_cert_list(e.report, e.certs);
    // parse_certificate refused a list that does not form a chain; a hand-made Certificate gets
    // the report alone, and the chain claims say what is missing.
    verify::Evidence evidence;
    if (listed.ok())
        evidence = listed.release_value();
    else
        evidence.report = e.report;
    if (complete)
        complete(evidence);
    return verifier.verify(evidence, options);
}

// The REPORT_DATA `binding` makes over `spki` and `nonce`, or the reason there is none.
Result<proto::ReportData> expected_report_data(std::string_view binding, ByteView spki, ByteView nonce)
{
    if (binding == proto::WORKLOAD_RATLS_TAG)
        return proto::workload_ratls(spki, nonce);
    if (binding == proto::AGENT_KEY_TAG) {
        if (!nonce.empty())
            return Error::make(Errc::Format, "a nonce of %zu bytes with %s, expected none", nonce.size(),
                               proto::AGENT_KEY_TAG.data());
        return proto::agent_key(spki);
    }
    if (binding == proto::RATLS_BROKER_TAG) {
        proto::ReportData cvmkb{};
        if (nonce.size() != cvmkb.size())
            return Error::make(Errc::Format, "a nonce of %zu bytes with %s, expected %zu", nonce.size(),
                               proto::RATLS_BROKER_TAG.data(), cvmkb.size());
        std::copy(nonce.begin(), nonce.end(), cvmkb.begin());
        return proto::ratls_broker(spki, cvmkb);
    }
    return Error::make(Errc::Format, "unknown binding");
}

// REPORT_DATA of `v`'s report against `binding` over `spki` and `nonce`.
Claim binding_claim(const char* name, const verify::Verification& v, std::string_view binding,
                    std::string_view expected_binding, ByteView spki, ByteView nonce)
{
    if (binding != expected_binding)
        return make(name, false, "binding \"" + std::string(binding) + "\"",
                    "binding \"" + std::string(expected_binding) + "\"", "the evidence was made for another use");
    if (!v.report)
        return make(name, false, NOT_CHECKED, "REPORT_DATA of a report that parses", "the report did not parse");
    auto expected = expected_report_data(binding, spki, nonce);
    if (!expected.ok())
        return make(name, false, NOT_CHECKED, std::string(binding), std::string(expected.error().message()));
    bool pass = v.report->report_data == expected.value();
    return make(name, pass, hex(v.report->report_data), hex(expected.value()),
                pass ? "" : "REPORT_DATA does not bind this key (and nonce) under " + std::string(binding));
}

Claim signature_claim(const Certificate& cert)
{
    constexpr const char* NAME = "ratls.signature";
    bool self_signed = !cert.evidence.issuer;
    ByteView key = self_signed ? ByteView(cert.spki) : ByteView(cert.evidence.issuer->spki);
    std::string signer = self_signed ? "its own key" : "the issuer evidence's key";
    auto type = detail::classify_spki(key, "signing key");
    if (!type.ok() || type.value() != detail::KeyType::P256)
        return make(NAME, false, "the signing key is not P-256", "ecdsa-with-SHA256 by " + signer,
                    type.ok() ? "an Ed25519 key cannot make an ECDSA signature" : std::string(type.error().message()));
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int rc = mbedtls_pk_parse_public_key(&pk, key.data(), key.size());
    auto digest = crypto::Sha256::of(cert.tbs);
    if (rc == 0)
        rc = mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, digest.data(), digest.size(), cert.signature.data(),
                               cert.signature.size());
    mbedtls_pk_free(&pk);
    if (rc != 0)
        return make(NAME, false, "signature does not verify", "ecdsa-with-SHA256 by " + signer,
                    std::string(detail::mbedtls_failure(Errc::Crypto, rc, "ECDSA P-256").message()));
    return make(NAME, true, "verifies under " + signer, "ecdsa-with-SHA256 by " + signer);
}

Claim same_launch_claim(const verify::Verification& subject, const verify::Verification& issuer)
{
    constexpr const char* NAME = "ratls.same_launch";
    if (!subject.report || !issuer.report)
        return make(NAME, false, NOT_CHECKED, "subject and issuer reports of one launch", "a report did not parse");
    const snp::AttestationReport& s = *subject.report;
    const snp::AttestationReport& i = *issuer.report;
    std::string found, expected;
    auto field = [&](const char* label, ByteView a, ByteView b) {
        if (std::equal(a.begin(), a.end(), b.begin(), b.end()))
            return;
        found += std::string(found.empty() ? "" : ", ") + label + " " + hex(b);
        expected += std::string(expected.empty() ? "" : ", ") + label + " " + hex(a);
    };
    field("MEASUREMENT", s.measurement, i.measurement);
    field("HOST_DATA", s.host_data, i.host_data);
    field("REPORT_ID", s.report_id, i.report_id);
    field("CHIP_ID", s.chip_id, i.chip_id);
    if (s.policy.raw != i.policy.raw) {
        char text[64];
        snprintf(text, sizeof text, "POLICY 0x%llx", static_cast<unsigned long long>(i.policy.raw));
        found += std::string(found.empty() ? "" : ", ") + text;
        snprintf(text, sizeof text, "POLICY 0x%llx", static_cast<unsigned long long>(s.policy.raw));
        expected += std::string(expected.empty() ? "" : ", ") + text;
    }
    if (found.empty())
        return make(NAME, true, "MEASUREMENT, HOST_DATA, REPORT_ID, CHIP_ID, POLICY equal",
                    "subject and issuer reports of one launch");
    return make(NAME, false, "issuer " + found, "the subject's " + expected,
                "the issuer evidence is from another launch than the subject's");
}

}  // namespace

bool RatlsVerification::pass() const
{
    return all_pass(claims) && subject.pass() && (!issuer || issuer->pass());
}

const Claim* RatlsVerification::find(std::string_view name) const
{
    for (const Claim& c : claims) {
        if (c.name == name)
            return &c;
    }
    if (const Claim* c = subject.find(name))
        return c;
    return issuer ? issuer->find(name) : nullptr;
}

RatlsVerification verify_certificate(const Certificate& cert, const Expectation& expect, verify::Verifier& verifier,
                                     const verify::VerifyOptions& options, const CompleteEvidence& complete)
{
    RatlsVerification out;
    const CertEvidence& subject = cert.evidence.subject;
    out.subject = verify_evidence(subject, verifier, options, complete);
    if (cert.evidence.issuer)
        out.issuer = verify_evidence(*cert.evidence.issuer, verifier, options, complete);

    if (expect.binding.empty())
        out.claims.push_back(make("ratls.subject_binding", false, "binding \"" + subject.binding + "\"",
                                  "a binding the caller names", "a certificate is never accepted for any binding"));
    else
        out.claims.push_back(binding_claim("ratls.subject_binding", out.subject, subject.binding, expect.binding,
                                           cert.spki, subject.nonce));

    if (!expect.nonce)
        out.claims.push_back(make("ratls.nonce", true, "not requested", "any nonce",
                                  subject.nonce.empty() ? "" : "the evidence's nonce is " + hex(subject.nonce)));
    else
        out.claims.push_back(make("ratls.nonce", subject.nonce == *expect.nonce, "nonce " + hex(subject.nonce),
                                  "nonce " + hex(*expect.nonce),
                                  subject.nonce == *expect.nonce ? "" : "the evidence was made for another nonce"));

    if (!cert.evidence.issuer)
        out.claims.push_back(make("ratls.issuer_binding", true, "self-signed", "issuer evidence or self-signed"));
    else
        out.claims.push_back(binding_claim("ratls.issuer_binding", *out.issuer, cert.evidence.issuer->binding,
                                           proto::AGENT_KEY_TAG, cert.evidence.issuer->spki,
                                           cert.evidence.issuer->nonce));

    out.claims.push_back(signature_claim(cert));

    if (!cert.evidence.issuer)
        out.claims.push_back(make("ratls.same_launch", true, "self-signed", "issuer evidence or self-signed"));
    else
        out.claims.push_back(same_launch_claim(out.subject, *out.issuer));
    return out;
}

}  // namespace cvm::ratls
