// Self-made chains (tests/unit/verify/data): trusted only when the caller says so, and then
// held to every rule but AMD's names.
#include <doctest.h>

#include <string>

#include "sim_chain.h"
#include "snp/report.h"
#include "verify/verifier.h"
#include "verify_vectors.h"

using namespace cvm;
using namespace cvm::verify;
using snp::Product;
using test::failing;
using test::make_verifier;
using test::Names;
using test::names;

namespace {

VerifierOptions trusting(const std::string& root_fixture)
{
    VerifierOptions o;
    o.trusted_roots.push_back(test::testdata_cert(root_fixture));
    return o;
}

}  // namespace

TEST_CASE("a self-made chain fails unless its root is supplied as trusted")
{
    Evidence ev;
    ev.report = test::sign_report(test::sim_report());
    ev.vek = test::read_testdata("sim_vcek.der");
    ev.ask = test::read_testdata("sim_ask.pem");
    ev.ark = test::read_testdata("sim_ark.pem");

    auto amd_only = make_verifier();
    Verification untrusted = amd_only->verify(ev, test::NO_REVOCATION);
    // An untrusted root ends the chain: nothing is verified under its ASK.
    CHECK(failing(untrusted) == Names{"chain.ark", "chain.ask", "chain.vek"});
    CHECK(test::claim(untrusted, "chain.ark").detail == "the ARK in the evidence is not a trusted root");
    Evidence no_ark = ev;
    no_ark.ark.clear();
    CHECK_FALSE(amd_only->verify(no_ark, test::NO_REVOCATION).pass());

    auto sim_trusting = make_verifier(trusting("sim_ark.pem"));
    for (const Evidence* e : {&ev, &no_ark}) {
        Verification v = sim_trusting->verify(*e, test::NO_REVOCATION);
        CHECK_MESSAGE(v.pass(), test::dump(v));
        CHECK(v.anchor == Anchor::CallerSupplied);
        CHECK(test::claim(v, "chain.ark").detail.find("caller-supplied") != std::string::npos);
    }
    // AMD's evidence still verifies under the same verifier.
    CHECK(sim_trusting->verify(test::vector_evidence("oak_turin_v5", false), test::NO_REVOCATION).pass());
}

TEST_CASE("a simulated VLEK chain through a caller-supplied root")
{
    auto verifier = make_verifier(trusting("sim_ark.pem"));
    snp::AttestationReport r = test::sim_report();
    r.signing_key = snp::SigningKey::Vlek;
    r.chip_id.fill(0);
    Evidence ev;
    ev.report = test::sign_report(r);
    ev.vek = test::read_testdata("sim_vlek.der");
    ev.ask = test::read_testdata("sim_asvk.pem");
    Verification v = verifier->verify(ev, test::NO_REVOCATION);
    CHECK_MESSAGE(v.pass(), test::dump(v));
    CHECK(v.vek_kind == VekKind::Vlek);
    // The VCEK's ASK where the VLEK's ASVK belongs.
    ev.ask = test::read_testdata("sim_ask.pem");
    CHECK_FALSE(verifier->verify(ev, test::NO_REVOCATION).pass());
}

TEST_CASE("a correctly signed report whose REPORTED_TCB differs from the VCEK fails only vek.tcb, naming it")
{
    auto verifier = make_verifier(trusting("sim_ark.pem"));
    snp::AttestationReport r = test::sim_report();
    r.reported_tcb = snp::TcbVersion{0, 3, 0, 9, 115}.encode(Product::Milan);  // snp 9, the VCEK says 8
    Evidence ev;
    ev.report = test::sign_report(r);
    ev.vek = test::read_testdata("sim_vcek.der");
    ev.ask = test::read_testdata("sim_ask.pem");
    Verification v = verifier->verify(ev, test::NO_REVOCATION);
    CHECK(failing(v) == Names{"vek.tcb"});
    CHECK(test::claim(v, "vek.tcb").detail == "snp: certificate 8, REPORTED_TCB 9");
    CHECK(v.status().error().code() == Errc::Chain);

    r = test::sim_report();
    r.chip_id[0] = 0x12;
    ev.report = test::sign_report(r);
    CHECK(failing(verifier->verify(ev, test::NO_REVOCATION)) == Names{"vek.hwid"});
}

TEST_CASE("a caller-supplied root must itself pass the root rules")
{
    auto small = Verifier::create(trusting("sim_ark_rsa2048.pem"));
    REQUIRE_FALSE(small.ok());
    CHECK(small.error().code() == Errc::Config);
    CHECK(std::string(small.error().message()).find("RSA-2048") != std::string::npos);
    auto not_root = Verifier::create(trusting("sim_ask.pem"));
    REQUIRE_FALSE(not_root.ok());
    CHECK(not_root.error().code() == Errc::Config);
}
