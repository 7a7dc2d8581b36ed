#include "ratls_fixture.h"

#include <doctest.h>
#include <sodium.h>

#include "base/asn1.h"
#include "base/der.h"

namespace cvm::test {
namespace {

RatlsLaunch make_launch(uint8_t fill)
{
    auto agent = ratls::KeyPair::generate();
    REQUIRE_MESSAGE(agent.ok(), agent.error().message());
    RatlsLaunch l{psp_for(genoa(), fill), agent.release_value(), {}};
    ByteView spki = l.agent->spki_der();
    l.agent_evidence = evidence(l.psp, proto::agent_key(spki), proto::AGENT_KEY_TAG);
    l.agent_evidence.spki.assign(spki.begin(), spki.end());
    return l;
}

}  // namespace

const RatlsLaunch& launch()
{
    static const RatlsLaunch l = make_launch(0x5A);
    return l;
}

const RatlsLaunch& other_launch()
{
    static const RatlsLaunch l = make_launch(0x11);
    return l;
}

ratls::CertEvidence evidence(const sim::SimulatedPsp& psp, const proto::ReportData& report_data,
                             std::string_view binding, ByteView nonce)
{
    auto report = psp.get_report(report_data, 0);
    REQUIRE_MESSAGE(report.ok(), report.error().message());
    verify::Evidence table = test::evidence(report.value(), psp.cert_table());
    ratls::CertEvidence e;
    e.report = report.release_value();
    e.certs = {table.vek, table.ask, table.ark};
    e.binding = std::string(binding);
    e.nonce.assign(nonce.begin(), nonce.end());
    e.provider = "simulated";
    return e;
}

ratls::CertEvidence workload_evidence(const RatlsLaunch& l, ByteView spki, ByteView nonce)
{
    return evidence(l.psp, proto::workload_ratls(spki, nonce), proto::WORKLOAD_RATLS_TAG, nonce);
}

Bytes issue_leaf(const RatlsLaunch& l, ByteView spki, ByteView nonce, const std::vector<std::string>& dns)
{
    ratls::EvidenceSet set{workload_evidence(l, spki, nonce), l.agent_evidence};
    auto der = l.agent->issue(spki, "workload", dns, set, NOT_BEFORE, NOT_AFTER);
    REQUIRE_MESSAGE(der.ok(), der.error().message());
    return der.release_value();
}

Bytes self_signed(const RatlsLaunch& l)
{
    ratls::CertEvidence subject = l.agent_evidence;
    subject.spki.clear();
    auto der = l.agent->issue({}, "", {}, ratls::EvidenceSet{subject, std::nullopt}, NOT_BEFORE, NOT_AFTER);
    REQUIRE_MESSAGE(der.ok(), der.error().message());
    return der.release_value();
}

ratls::Certificate parse(ByteView der)
{
    auto cert = ratls::parse_certificate(der);
    REQUIRE_MESSAGE(cert.ok(), cert.error().message());
    return cert.release_value();
}

Bytes p256_spki()
{
    auto key = ratls::KeyPair::generate();
    REQUIRE(key.ok());
    ByteView spki = key.value()->spki_der();
    return Bytes(spki.begin(), spki.end());
}

Bytes ed25519_spki()
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    sodium_memzero(sk, sizeof sk);
    // SubjectPublicKeyInfo { AlgorithmIdentifier { id-Ed25519 }, BIT STRING key } (RFC 8410 §4)
    return asn1::sequence({asn1::sequence({asn1::oid({1, 3, 101, 112})}), asn1::bit_string(ByteView(pk, sizeof pk))});
}

ratls::RatlsVerification check(const ratls::Certificate& cert, const ratls::Expectation& expect)
{
    static std::unique_ptr<verify::Verifier> verifier = verifier_trusting({&genoa()});
    auto add_crl = [](verify::Evidence& e) { e.crl = crl_of(genoa()); };
    return ratls::verify_certificate(cert, expect, *verifier, verify::VerifyOptions{}, add_crl);
}

std::string dump(const ratls::RatlsVerification& v)
{
    std::string out;
    for (const Claim& c : v.claims)
        out += c.name + (c.pass ? " pass" : " FAIL") + " found=" + c.found + " expected=" + c.expected +
               " detail=" + c.detail + "\n";
    return out + "subject:\n" + dump(v.subject) + (v.issuer ? "issuer:\n" + dump(*v.issuer) : "");
}

std::vector<std::string> failing(const ratls::RatlsVerification& v)
{
    std::vector<std::string> out;
    for (const Claim& c : v.claims) {
        if (!c.pass)
            out.push_back(c.name);
    }
    for (const std::string& name : failing(v.subject))
        out.push_back("subject " + name);
    if (v.issuer) {
        for (const std::string& name : failing(*v.issuer))
            out.push_back("issuer " + name);
    }
    return out;
}

}  // namespace cvm::test
