// Product lines the verify layer recognises (selection.cc, snp/tcb.h): Genoa's Zen 4c parts
// verify as Genoa, and Venice (Zen 6) is refused by name rather than parsed with another
// product's TCB layout, whatever the certificate or --product say. And the fields no real vector
// shows, in signed simulated evidence (sim_chain.h) that goes through the Verifier and the policy:
// provisional firmware, mitigation vectors, a Venice CPUID under a trusted root.
#include <doctest.h>

#include <string>

#include "policy/policy.h"
#include "sim_chain.h"
#include "snp/report.h"
#include "vectors.h"
#include "verify/verifier.h"
#include "verify_vectors.h"

using namespace cvm;
using namespace cvm::verify;
using snp::Product;

namespace {

// The real Turin vector with its CPUID model changed (the signature no longer verifies, which
// is beside the point: the product decision comes first).
Evidence with_cpuid(uint8_t family, uint8_t model, bool with_chain)
{
    Evidence e = test::vector_evidence("oak_turin_v5", with_chain);
    auto r = snp::parse_report(e.report).value();
    r.cpuid_fam_id = family;
    r.cpuid_mod_id = model;
    auto bytes = snp::serialize_report(r);
    e.report.assign(bytes.begin(), bytes.end());
    return e;
}

const Claim* find(const Verification& v, const char* name)
{
    const Claim* c = v.find(name);
    REQUIRE(c);
    return c;
}

}  // namespace

TEST_CASE("Venice is refused by CPUID with a clear message, with or without --product")
{
    auto verifier = test::make_verifier();
    for (int model : {0x50, 0x5F, 0x80, 0xAF, 0xC0, 0xCF}) {
        for (bool with_chain : {true, false}) {
            for (std::optional<Product> forced : {std::optional<Product>(), std::optional(Product::Turin)}) {
                CAPTURE(int(model));
                CAPTURE(with_chain);
                VerifyOptions o = test::NO_REVOCATION;
                o.product = forced;
                Verification v = verifier->verify(with_cpuid(0x1A, uint8_t(model), with_chain), o);
                CHECK_FALSE(v.pass());
                CHECK_FALSE(v.product.has_value());
                const Claim* ark = find(v, "chain.ark");
                CHECK_FALSE(ark->pass);
                CHECK(ark->detail.find("Venice (CPUID family 1Ah model") != std::string::npos);
                CHECK(ark->detail.find("not supported until AMD publishes its KDS format") != std::string::npos);
                CHECK(find(v, "vek.product")->detail.find("Venice") != std::string::npos);
            }
        }
    }
}

TEST_CASE("Zen 5 and Zen 4c models around Venice's are not refused")
{
    for (uint8_t model : {uint8_t(0x02), uint8_t(0x11)}) {
        CHECK(snp::product_from_cpuid(0x1A, model) == Product::Turin);
        CHECK_FALSE(snp::unsupported_product_from_cpuid(0x1A, uint8_t(model)));
    }
    for (int model : {0x12, 0x4F, 0x60, 0x7F, 0xB0, 0xD0})
        CHECK_FALSE(snp::unsupported_product_from_cpuid(0x1A, uint8_t(model)));
    CHECK(snp::unsupported_product_from_cpuid(0x1A, 0x50) == "Venice");
    CHECK_FALSE(snp::unsupported_product_from_cpuid(0x19, 0x50));  // family 19h model 50h: a Zen 3 client
    CHECK(snp::product_from_cpuid(0x19, 0xA0) == Product::Genoa);  // Siena
    CHECK(snp::product_from_cpuid(0x19, 0xAF) == Product::Genoa);  // Bergamo range

    // A model no product line covers is taken from the certificate (Turin here), and vek.product
    // then says the CPUID disagrees: refused, but not as Venice.
    auto verifier = test::make_verifier();
    Verification v = verifier->verify(with_cpuid(0x1A, 0x40, true), test::NO_REVOCATION);
    CHECK(v.product == Product::Turin);
    CHECK_FALSE(find(v, "vek.product")->pass);
    CHECK(find(v, "vek.product")->detail.find("Venice") == std::string::npos);
}

namespace {

// Verifies `r`, signed by the fixture VCEK (Milan), under the fixture root; the policy claims of
// `p` when the chain verified, else none.
std::pair<Verification, std::vector<Claim>> judge(const snp::AttestationReport& r, const policy::Policy& p)
{
    VerifierOptions options;
    options.trusted_roots.push_back(test::testdata_cert("sim_ark.pem"));
    auto verifier = test::make_verifier(std::move(options));
    Evidence ev;
    ev.report = test::sign_report(r);
    ev.vek = test::read_testdata("sim_vcek.der");
    ev.ask = test::read_testdata("sim_ask.pem");
    ev.ark = test::read_testdata("sim_ark.pem");
    Verification v = verifier->verify(ev, test::NO_REVOCATION);
    std::vector<Claim> claims;
    if (v.pass())
        claims = policy::evaluate(p, *v.report, *v.product, policy::Origin::Simulated);
    return {std::move(v), std::move(claims)};
}

std::vector<std::string> failing_names(const std::vector<Claim>& claims)
{
    std::vector<std::string> out;
    for (const Claim& c : claims) {
        if (!c.pass)
            out.push_back(c.name);
    }
    return out;
}

snp::AttestationReport milan_v5()
{
    snp::AttestationReport r = test::sim_report();
    r.version = 5;
    r.cpuid_fam_id = 0x19;
    r.cpuid_mod_id = 0x01;
    r.cpuid_step = 1;
    r.current_major = r.committed_major = 1;
    r.current_minor = r.committed_minor = 55;
    r.current_build = r.committed_build = 61;
    return r;
}

policy::Policy accepting(const snp::AttestationReport& r)
{
    policy::Policy p;
    p.measurements = {r.measurement};
    p.allow_simulated = true;
    return p;
}

}  // namespace

TEST_CASE("signed simulated evidence: provisional firmware fails unless permitted")
{
    auto r = milan_v5();
    auto p = accepting(r);
    auto judged = judge(r, p);
    const Verification& ok = judged.first;
    const std::vector<Claim>& clean = judged.second;
    REQUIRE_MESSAGE(ok.pass(), test::dump(ok));
    CHECK(failing_names(clean).empty());

    // New firmware running but not committed: CURRENT above COMMITTED, in TCB and version.
    r.current_tcb = snp::TcbVersion{0, 3, 0, 9, 115}.encode(Product::Milan);
    r.current_build = 62;
    auto provisional = judge(r, p);
    const Verification& v = provisional.first;
    const std::vector<Claim>& claims = provisional.second;
    REQUIRE_MESSAGE(v.pass(), test::dump(v));  // the chain and the signature are fine
    CHECK(failing_names(claims) == std::vector<std::string>{"policy.committed_tcb", "policy.committed_version"});
    p.permit_provisional_firmware = true;
    CHECK(failing_names(judge(r, p).second).empty());

    // REPORTED_TCB (the VCEK's) above CURRENT_TCB: no firmware does that.
    r = milan_v5();
    r.current_tcb = r.committed_tcb = snp::TcbVersion{0, 3, 0, 7, 115}.encode(Product::Milan);
    CHECK(failing_names(judge(r, p).second) == std::vector<std::string>{"policy.reported_tcb"});
}

TEST_CASE("signed simulated evidence: mitigation vectors")
{
    auto r = milan_v5();
    r.launch_mit_vector = 0x1;
    r.current_mit_vector = 0x3;
    auto p = accepting(r);
    p.min_launch_mit_vector = 0x1;
    p.min_current_mit_vector = 0x3;
    CHECK(failing_names(judge(r, p).second).empty());
    p.min_launch_mit_vector = 0x3;
    CHECK(failing_names(judge(r, p).second) == std::vector<std::string>{"policy.launch_mit_vector"});
    r.version = 3;  // no vectors below VERSION 5 (they are reserved, zero)
    r.launch_mit_vector = r.current_mit_vector = 0;
    p.min_launch_mit_vector = 0;
    auto judged = judge(r, p);
    const Verification& v = judged.first;
    const std::vector<Claim>& claims = judged.second;
    REQUIRE_MESSAGE(v.pass(), test::dump(v));
    CHECK(failing_names(claims) == std::vector<std::string>{"policy.current_mit_vector"});
}

TEST_CASE("signed simulated evidence: a Venice CPUID is refused even under a trusted root")
{
    auto r = milan_v5();
    r.cpuid_fam_id = 0x1A;
    r.cpuid_mod_id = 0x90;
    auto judged = judge(r, accepting(r));
    const Verification& v = judged.first;
    const std::vector<Claim>& claims = judged.second;
    CHECK_FALSE(v.pass());
    CHECK_FALSE(v.product);
    CHECK(claims.empty());
    CHECK(test::claim(v, "chain.ark").pass);  // the root is trusted; the product is what is refused
    CHECK(test::claim(v, "vek.product").detail.find("Venice (CPUID family 1Ah model 90h, Zen 6) is not supported") !=
          std::string::npos);
}
