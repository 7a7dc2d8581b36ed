// verify_certificate (lib/ratls/verify.h): each ratls.* claim passes for what the agent issues
// and fails, naming found and expected, for each way a certificate's evidence can lie.
#include <doctest.h>

#include "ratls_fixture.h"

using namespace cvm;
using namespace cvm::ratls;

namespace {

Expectation workload(std::optional<Bytes> nonce)
{
    return Expectation{std::string(proto::WORKLOAD_RATLS_TAG), std::move(nonce)};
}

const Claim& claim(const RatlsVerification& v, std::string_view name)
{
    const Claim* c = v.find(name);
    REQUIRE_MESSAGE(c, std::string(name));
    return *c;
}

std::vector<std::string> names(std::initializer_list<const char*> list)
{
    return std::vector<std::string>(list.begin(), list.end());
}

}  // namespace

TEST_CASE("verify: a P-256 leaf, its nonce, the issuer's evidence: every claim passes")
{
    Bytes spki = test::p256_spki();
    Bytes nonce(32, 0x99);
    Certificate cert = test::parse(test::issue_leaf(test::launch(), spki, nonce));
    RatlsVerification v = test::check(cert, workload(nonce));
    CHECK_MESSAGE(v.pass(), test::dump(v));
    REQUIRE(v.claims.size() == 5);
    CHECK(v.claims[0].name == "ratls.subject_binding");
    CHECK(v.claims[1].name == "ratls.nonce");
    CHECK(v.claims[2].name == "ratls.issuer_binding");
    CHECK(v.claims[3].name == "ratls.signature");
    CHECK(v.claims[4].name == "ratls.same_launch");
    CHECK(claim(v, "ratls.subject_binding").found == to_hex(proto::workload_ratls(spki, nonce)));
    CHECK(claim(v, "ratls.nonce").found == "nonce " + to_hex(nonce));
    CHECK(v.issuer);
    CHECK(v.subject.pass());
    CHECK(v.subject.find("chain.revocation")->pass);
    // The policy is the caller's, on the verified report.
    auto report = v.subject.verified_report();
    REQUIRE(report.ok());
    CHECK(report->measurement == test::launch().psp.launch().measurement);
}

TEST_CASE("verify: an Ed25519 leaf and the agent's self-signed certificate")
{
    Certificate ed = test::parse(test::issue_leaf(test::launch(), test::ed25519_spki(), {}));
    RatlsVerification v = test::check(ed, workload(Bytes{}));
    CHECK_MESSAGE(v.pass(), test::dump(v));

    Certificate self = test::parse(test::self_signed(test::launch()));
    RatlsVerification s = test::check(self, Expectation{std::string(proto::AGENT_KEY_TAG), std::nullopt});
    CHECK_MESSAGE(s.pass(), test::dump(s));
    CHECK_FALSE(s.issuer);
    CHECK(claim(s, "ratls.issuer_binding").found == "self-signed");
    CHECK(claim(s, "ratls.same_launch").found == "self-signed");
    CHECK(claim(s, "ratls.signature").found == "verifies under its own key");
}

TEST_CASE("verify: a nonce not asked for is not checked, and says so")
{
    Certificate cert = test::parse(test::issue_leaf(test::launch(), test::p256_spki(), Bytes(8, 1)));
    RatlsVerification v = test::check(cert, workload(std::nullopt));
    CHECK_MESSAGE(v.pass(), test::dump(v));
    CHECK(claim(v, "ratls.nonce").found == "not requested");
    CHECK(claim(v, "ratls.nonce").detail.find("0101010101010101") != std::string::npos);
}

TEST_CASE("verify: another nonce, another expected binding, no binding")
{
    Certificate cert = test::parse(test::issue_leaf(test::launch(), test::p256_spki(), Bytes(8, 1)));
    RatlsVerification v = test::check(cert, workload(Bytes(8, 2)));
    CHECK(test::failing(v) == names({"ratls.nonce"}));
    CHECK(claim(v, "ratls.nonce").found == "nonce 0101010101010101");
    CHECK(claim(v, "ratls.nonce").expected == "nonce 0202020202020202");

    RatlsVerification b = test::check(cert, Expectation{std::string(proto::RATLS_BROKER_TAG), std::nullopt});
    CHECK(test::failing(b) == names({"ratls.subject_binding"}));
    CHECK(claim(b, "ratls.subject_binding").found == "binding \"cvminit workload/1 ra-tls\"");
    CHECK(claim(b, "ratls.subject_binding").expected == "binding \"cvmkb/1 ra-tls\"");

    RatlsVerification none = test::check(cert, Expectation{});
    CHECK(test::failing(none) == names({"ratls.subject_binding"}));
}

TEST_CASE("verify: REPORT_DATA for another key or another nonce than the certificate's")
{
    const test::RatlsLaunch& l = test::launch();
    Bytes spki = test::p256_spki();
    SUBCASE("evidence for another key")
    {
        EvidenceSet set{test::workload_evidence(l, test::p256_spki(), {}), l.agent_evidence};
        auto der = l.agent->issue(spki, "w", {}, set, test::NOT_BEFORE, test::NOT_AFTER);
        REQUIRE(der.ok());
        RatlsVerification v = test::check(test::parse(der.value()), workload(Bytes{}));
        CHECK(test::failing(v) == names({"ratls.subject_binding"}));
        CHECK(claim(v, "ratls.subject_binding").expected == to_hex(proto::workload_ratls(spki, {})));
        CHECK(claim(v, "ratls.subject_binding").found != claim(v, "ratls.subject_binding").expected);
    }
    SUBCASE("the evidence's nonce rewritten after the report was made")
    {
        EvidenceSet set{test::workload_evidence(l, spki, Bytes(4, 1)), l.agent_evidence};
        set.subject.nonce = Bytes(4, 2);
        auto der = l.agent->issue(spki, "w", {}, set, test::NOT_BEFORE, test::NOT_AFTER);
        REQUIRE(der.ok());
        RatlsVerification v = test::check(test::parse(der.value()), workload(Bytes(4, 2)));
        CHECK(test::failing(v) == names({"ratls.subject_binding"}));
    }
    SUBCASE("a report bound to the key under another tag")
    {
        EvidenceSet set{test::evidence(l.psp, proto::agent_key(spki), proto::WORKLOAD_RATLS_TAG), l.agent_evidence};
        auto der = l.agent->issue(spki, "w", {}, set, test::NOT_BEFORE, test::NOT_AFTER);
        REQUIRE(der.ok());
        RatlsVerification v = test::check(test::parse(der.value()), workload(Bytes{}));
        CHECK(test::failing(v) == names({"ratls.subject_binding"}));
    }
}

TEST_CASE("verify: the issuer's evidence")
{
    const test::RatlsLaunch& l = test::launch();
    Bytes spki = test::p256_spki();
    Certificate cert = test::parse(test::issue_leaf(l, spki, {}));
    SUBCASE("swapped for another agent's: the signature and the launch no longer match")
    {
        Certificate swapped = cert;
        swapped.evidence.issuer = test::other_launch().agent_evidence;
        RatlsVerification v = test::check(swapped, workload(Bytes{}));
        CHECK(test::failing(v) == names({"ratls.signature", "ratls.same_launch"}));
        CHECK(claim(v, "ratls.signature").expected == "ecdsa-with-SHA256 by the issuer evidence's key");
    }
    SUBCASE("a report that does not bind the key it names")
    {
        Certificate unbound = cert;
        unbound.evidence.issuer->report = test::evidence(l.psp, proto::agent_key(spki), proto::AGENT_KEY_TAG).report;
        RatlsVerification v = test::check(unbound, workload(Bytes{}));
        CHECK(test::failing(v) == names({"ratls.issuer_binding"}));
        CHECK(claim(v, "ratls.issuer_binding").expected == to_hex(proto::agent_key(l.agent->spki_der())));
    }
    SUBCASE("removed: the certificate does not verify under its own key")
    {
        Certificate orphan = cert;
        orphan.evidence.issuer.reset();
        RatlsVerification v = test::check(orphan, workload(Bytes{}));
        CHECK(test::failing(v) == names({"ratls.signature"}));
        CHECK(claim(v, "ratls.signature").expected == "ecdsa-with-SHA256 by its own key");
    }
    SUBCASE("an Ed25519 leaf posing as self-signed cannot carry an ECDSA signature")
    {
        Certificate ed = test::parse(test::issue_leaf(l, test::ed25519_spki(), {}));
        ed.evidence.issuer.reset();
        RatlsVerification v = test::check(ed, workload(Bytes{}));
        CHECK(test::failing(v) == names({"ratls.signature"}));
        CHECK(claim(v, "ratls.signature").found == "the signing key is not P-256");
    }
}

TEST_CASE("verify: subject and issuer from two launches")
{
    // The other launch's workload evidence, genuinely bound to the key, signed by this launch's
    // agent with this launch's issuer evidence: only the launch check can tell.
    Bytes spki = test::p256_spki();
    const test::RatlsLaunch& l = test::launch();
    EvidenceSet set{test::workload_evidence(test::other_launch(), spki, {}), l.agent_evidence};
    auto der = l.agent->issue(spki, "w", {}, set, test::NOT_BEFORE, test::NOT_AFTER);
    REQUIRE(der.ok());
    RatlsVerification v = test::check(test::parse(der.value()), workload(Bytes{}));
    CHECK(test::failing(v) == names({"ratls.same_launch"}));
    const Claim& c = claim(v, "ratls.same_launch");
    CHECK(c.found.find("MEASUREMENT " + to_hex(Bytes(48, 0x5A))) != std::string::npos);
    CHECK(c.expected.find("MEASUREMENT " + to_hex(Bytes(48, 0x11))) != std::string::npos);
    CHECK(c.found.find("REPORT_ID") != std::string::npos);
    CHECK(c.found.find("HOST_DATA") == std::string::npos);  // equal: not listed
}

TEST_CASE("verify: tampering with the certificate or its reports")
{
    Certificate cert = test::parse(test::issue_leaf(test::launch(), test::p256_spki(), {}));
    SUBCASE("the signature")
    {
        Certificate t = cert;
        t.signature[t.signature.size() - 1] ^= 1;
        CHECK(test::failing(test::check(t, workload(Bytes{}))) == names({"ratls.signature"}));
    }
    SUBCASE("the signed bytes")
    {
        Certificate t = cert;
        t.tbs[t.tbs.size() / 2] ^= 1;
        CHECK(test::failing(test::check(t, workload(Bytes{}))) == names({"ratls.signature"}));
    }
    SUBCASE("the subject report")
    {
        Certificate t = cert;
        t.evidence.subject.report[0x90] ^= 1;  // inside MEASUREMENT
        RatlsVerification v = test::check(t, workload(Bytes{}));
        CHECK_FALSE(v.pass());
        CHECK(test::failing(v) == names({"ratls.same_launch", "subject report.signature"}));
    }
    SUBCASE("the issuer report")
    {
        Certificate t = cert;
        t.evidence.issuer->report[0x50] ^= 1;  // REPORT_DATA
        RatlsVerification v = test::check(t, workload(Bytes{}));
        CHECK(test::failing(v) == names({"ratls.issuer_binding", "issuer report.signature"}));
    }
}

TEST_CASE("verify: what the certificate does not carry comes from the caller's hook")
{
    const test::RatlsLaunch& l = test::launch();
    Bytes spki = test::p256_spki();
    EvidenceSet set{test::workload_evidence(l, spki, {}), l.agent_evidence};
    std::vector<Bytes> chain = set.subject.certs;
    set.subject.certs.clear();  // as when the host supplied no certificates
    auto der = l.agent->issue(spki, "w", {}, set, test::NOT_BEFORE, test::NOT_AFTER);
    REQUIRE(der.ok());
    Certificate cert = test::parse(der.value());
    auto verifier = test::verifier_trusting({&test::genoa()});

    RatlsVerification without = verify_certificate(cert, workload(Bytes{}), *verifier, {},
                                                   [](verify::Evidence& e) { e.crl = test::crl_of(test::genoa()); });
    CHECK_FALSE(without.pass());
    CHECK_FALSE(without.subject.pass());

    size_t calls = 0;
    RatlsVerification with = verify_certificate(cert, workload(Bytes{}), *verifier, {}, [&](verify::Evidence& e) {
        ++calls;
        if (e.vek.empty()) {  // as from KDS, with the simulated platform's ASK and ARK (AMD's are built in)
            e.vek = chain[0];
            e.ask = chain[1];
            e.ark = chain[2];
        }
        e.crl = test::crl_of(test::genoa());
    });
    CHECK(calls == 2);
    CHECK_MESSAGE(with.pass(), test::dump(with));

    RatlsVerification no_crl =
        verify_certificate(test::parse(test::issue_leaf(l, spki, {})), workload(Bytes{}), *verifier, {});
    CHECK(test::failing(no_crl) == names({"subject chain.revocation", "issuer chain.revocation"}));
}
