// The rules issue 14 added, each failing alone and naming found and expected: TCB and firmware,
// report VERSION fields, CHIP_ID, PLATFORM_INFO and GUEST_POLICY bits, REPORT_ID_MA. Real
// vectors where they show the case; otherwise a parsed real report with fields changed, as a
// firmware would write them (evaluate() sees parsed fields only; signatures are the verify
// layer's, tested with simulated evidence in tests/unit/verify and tests/blackbox).
#include <doctest.h>

#include <string>

#include "policy/policy.h"
#include "report_vectors.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::policy;
using snp::Product;

namespace {

snp::AttestationReport report(const std::string& dir)
{
    return snp::parse_report(test::read_vector(test::report_path(dir))).value();
}

Policy accepting(const snp::AttestationReport& r)
{
    Policy p;
    p.measurements = {r.measurement};
    p.max_vmpl = r.vmpl;
    return p;
}

// Every claim passes except `name`, which fails; returns it.
Claim fails_only(const Policy& p, const snp::AttestationReport& r, Product product, const std::string& name)
{
    Claim failed;
    for (const Claim& c : evaluate(p, r, product)) {
        CAPTURE(c.name);
        CAPTURE(c.found);
        CHECK(c.pass == (c.name != name));
        if (c.name == name)
            failed = c;
    }
    CHECK(failed.name == name);
    CHECK_FALSE(failed.detail.empty());
    return failed;
}

Claim claim(const Policy& p, const snp::AttestationReport& r, Product product, const std::string& name)
{
    for (const Claim& c : evaluate(p, r, product)) {
        if (c.name == name)
            return c;
    }
    FAIL("no claim " << name);
    return {};
}

}  // namespace

TEST_CASE("unset rules pass with expected any; the real vectors pass a policy of their own values")
{
    auto r = report("oak_turin_v5");
    for (const Claim& c : evaluate(accepting(r), r, Product::Turin)) {
        CAPTURE(c.name);
        CHECK(c.pass);
        if (c.name != "policy.simulated" && c.name != "policy.debug" && c.name != "policy.migration_agent" &&
            c.name != "policy.measurement" && c.name != "policy.vmpl" && c.name != "policy.cpuid" &&
            c.name != "policy.reported_tcb" && c.name != "policy.committed_tcb" && c.name != "policy.committed_version")
            CHECK(c.expected == "any");
    }
}

TEST_CASE("REPORTED_TCB above CURRENT_TCB fails, component-wise")
{
    auto r = report("trustee_azure_genoa_v3");  // every TCB 0x541700000000000a: bl 10 snp 23 ucode 84
    auto p = accepting(r);
    r.reported_tcb = snp::TcbVersion{0, 10, 1, 23, 84}.encode(Product::Genoa);  // tee 1 > 0
    Claim c = fails_only(p, r, Product::Genoa, "policy.reported_tcb");
    CHECK(c.found == "bl=10 tee=1 snp=23 ucode=84");
    CHECK(c.expected == "<= CURRENT_TCB bl=10 tee=0 snp=23 ucode=84");
    // Lower in one component and higher in another is not <= either.
    r.reported_tcb = snp::TcbVersion{0, 9, 1, 23, 84}.encode(Product::Genoa);
    fails_only(p, r, Product::Genoa, "policy.reported_tcb");
    // The real trustee_milan_vcek_v2 shape: reported below current passes.
    r.reported_tcb = snp::TcbVersion{0, 10, 0, 23, 0x40}.encode(Product::Genoa);
    CHECK(claim(p, r, Product::Genoa, "policy.reported_tcb").pass);
}

TEST_CASE("provisional firmware: COMMITTED below CURRENT fails unless permitted")
{
    auto r = report("trustee_milan_vlek_v3");  // real: COMMITTED ucode 219 < CURRENT ucode 220
    auto p = accepting(r);
    Claim c = fails_only(p, r, Product::Milan, "policy.committed_tcb");
    CHECK(c.found == "bl=4 tee=0 snp=24 ucode=219");
    CHECK(c.expected == "= CURRENT_TCB bl=4 tee=0 snp=24 ucode=220");
    CHECK(c.detail.find("permit_provisional_firmware") != std::string::npos);
    p.permit_provisional_firmware = true;
    CHECK(all_pass(evaluate(p, r, Product::Milan)));
    // Even when permitted, COMMITTED above CURRENT is wrong.
    r.committed_tcb = snp::TcbVersion{0, 4, 0, 25, 219}.encode(Product::Milan);
    CHECK(fails_only(p, r, Product::Milan, "policy.committed_tcb").expected.starts_with("<= CURRENT_TCB"));

    auto g = report("trustee_azure_genoa_v3");  // firmware 1.55.40 committed and current
    p = accepting(g);
    g.committed_build = 39;
    c = fails_only(p, g, Product::Genoa, "policy.committed_version");
    CHECK(c.found == "1.55.39");
    CHECK(c.expected == "= current 1.55.40");
    p.permit_provisional_firmware = true;
    CHECK(all_pass(evaluate(p, g, Product::Genoa)));
    g.committed_minor = 56;
    CHECK(fails_only(p, g, Product::Genoa, "policy.committed_version").expected == "<= current 1.55.40");
}

TEST_CASE("minimum committed and launch TCB per product, minimum build and version")
{
    auto r = report("oak_turin_v5");  // Turin fmc 0 bl 1 tee 0 snp 2 ucode 71, firmware 1.55.61
    auto p = accepting(r);
    p.min_committed_tcb[Product::Turin] = {0, 1, 0, 2, 71};
    p.min_launch_tcb[Product::Turin] = {0, 1, 0, 2, 71};
    p.min_build = 61;
    p.min_version = std::pair<uint8_t, uint8_t>(1, 55);
    CHECK(all_pass(evaluate(p, r, Product::Turin)));

    p.min_committed_tcb[Product::Turin].fmc = 1;
    Claim c = fails_only(p, r, Product::Turin, "policy.min_committed_tcb");
    CHECK(c.found == "fmc=0 bl=1 tee=0 snp=2 ucode=71");
    CHECK(c.expected == ">= fmc=1 bl=1 tee=0 snp=2 ucode=71");
    p.min_committed_tcb[Product::Turin].fmc = 0;

    p.min_launch_tcb[Product::Turin].microcode = 72;
    fails_only(p, r, Product::Turin, "policy.min_launch_tcb");
    p.min_launch_tcb.clear();
    p.min_launch_tcb[Product::Milan] = {};  // minimums for another product only: not silently passed
    CHECK(fails_only(p, r, Product::Turin, "policy.min_launch_tcb").expected == "a product the policy lists");
    p.min_launch_tcb.clear();

    p.min_build = 62;
    c = fails_only(p, r, Product::Turin, "policy.min_build");
    CHECK(c.found == "61");
    CHECK(c.expected == ">= 62");
    p.min_build = 61;
    p.min_version = std::pair<uint8_t, uint8_t>(1, 56);
    c = fails_only(p, r, Product::Turin, "policy.min_version");
    CHECK(c.found == "1.55");
    CHECK(c.expected == ">= 1.56");
    p.min_version = std::pair<uint8_t, uint8_t>(0, 99);
    CHECK(all_pass(evaluate(p, r, Product::Turin)));
}

TEST_CASE("report VERSION, CPUID and mitigation vectors")
{
    auto v5 = report("oak_turin_v5");  // VERSION 5, mitigation vectors 0
    auto p = accepting(v5);
    p.min_report_version = 5;
    CHECK(all_pass(evaluate(p, v5, Product::Turin)));
    auto v3 = report("trustee_azure_genoa_v3");
    auto p3 = accepting(v3);
    p3.min_report_version = 4;
    Claim c = fails_only(p3, v3, Product::Genoa, "policy.report_version");
    CHECK(c.found == "3");
    CHECK(c.expected == ">= 4");

    // CPUID (v3+) must name the product the chain was verified as: Genoa's model 11h is no Milan.
    c = claim(p3, v3, Product::Milan, "policy.cpuid");
    CHECK_FALSE(c.pass);
    CHECK(c.found == "family 19h model 11h stepping 1 (Genoa)");
    CHECK(c.expected == "a Milan part");
    v3.cpuid_mod_id = 0xA0;  // Siena, served by KDS as Genoa
    CHECK(claim(p3, v3, Product::Genoa, "policy.cpuid").pass);
    v3.cpuid_fam_id = 0x1A;
    v3.cpuid_mod_id = 0x50;  // Venice (Zen 6): refused, never taken for Turin
    c = claim(p3, v3, Product::Turin, "policy.cpuid");
    CHECK_FALSE(c.pass);
    CHECK(c.found == "family 1Ah model 50h stepping 1 (Venice)");
    auto v2 = report("virtee_milan_v2");
    CHECK(claim(accepting(v2), v2, Product::Milan, "policy.cpuid").found == "VERSION 2 has no CPUID fields");

    v5.launch_mit_vector = 0x1;
    v5.current_mit_vector = 0x3;
    p.min_launch_mit_vector = 0x1;
    p.min_current_mit_vector = 0x3;
    CHECK(all_pass(evaluate(p, v5, Product::Turin)));
    p.min_current_mit_vector = 0x5;  // bit 2 missing
    c = fails_only(p, v5, Product::Turin, "policy.current_mit_vector");
    CHECK(c.found == "0x3");
    CHECK(c.expected == "bits 0x5 set");
    CHECK(c.detail.find("0x4") != std::string::npos);
    p.min_current_mit_vector = 0;
    p.min_launch_mit_vector = 0x2;
    fails_only(p, v5, Product::Turin, "policy.launch_mit_vector");

    // Below VERSION 5 a mitigation-vector minimum fails, naming the version.
    p3 = accepting(report("trustee_azure_genoa_v3"));
    p3.min_launch_mit_vector = 1;
    c = fails_only(p3, report("trustee_azure_genoa_v3"), Product::Genoa, "policy.launch_mit_vector");
    CHECK(c.found == "VERSION 3 has no LAUNCH_MIT_VECTOR");
}

TEST_CASE("chip_ids allow-list; a masked CHIP_ID fails it")
{
    auto r = report("trustee_azure_genoa_v3");
    auto p = accepting(r);
    p.chip_ids = {ChipId{}, r.chip_id};
    p.chip_ids[0].fill(7);
    CHECK(all_pass(evaluate(p, r, Product::Genoa)));
    p.chip_ids.pop_back();
    Claim c = fails_only(p, r, Product::Genoa, "policy.chip_id");
    CHECK(c.found == to_hex(r.chip_id));
    CHECK(c.expected == to_hex(p.chip_ids[0]));

    auto vlek = report("trustee_milan_vlek_v3");  // AWS: CHIP_ID all zero
    p = accepting(vlek);
    p.permit_provisional_firmware = true;
    p.chip_ids = {r.chip_id};
    c = fails_only(p, vlek, Product::Milan, "policy.chip_id");
    CHECK(c.found.ends_with("(masked)"));
    CHECK(c.detail.find("masked") != std::string::npos);
}

TEST_CASE("PLATFORM_INFO bits required and forbidden; undefined bits are reported")
{
    auto r = report("oak_turin_v5");  // 0x67: smt tsme ecc alias_check_complete and bit 6
    auto p = accepting(r);
    CHECK(claim(p, r, Product::Turin, "policy.platform_info").found ==
          "0x67 (smt tsme ecc alias_check_complete, undefined bit 6)");
    for (const NamedBit& b : platform_info_bits()) {
        CAPTURE(b.name);
        bool set = r.platform_info.raw & b.mask;
        p = accepting(r);
        p.required_platform_info = b.mask;
        if (set)
            CHECK(all_pass(evaluate(p, r, Product::Turin)));
        else
            CHECK(fails_only(p, r, Product::Turin, "policy.platform_info").expected ==
                  describe_bits(b.mask, platform_info_bits()) + " set");
        p = accepting(r);
        p.forbidden_platform_info = b.mask;
        if (set)
            CHECK(fails_only(p, r, Product::Turin, "policy.platform_info_forbidden").expected ==
                  describe_bits(b.mask, platform_info_bits()) + " clear");
        else
            CHECK(all_pass(evaluate(p, r, Product::Turin)));
    }
    CHECK(describe_bits(0, platform_info_bits()) == "0x0 (none)");
    CHECK(describe_bits(1ull << 63 | 2, platform_info_bits()) == "0x8000000000000002 (tsme, undefined bit 63)");
}

TEST_CASE("GUEST_POLICY bits required and forbidden, and the older keys")
{
    auto r = report("trustee_azure_genoa_v3");  // POLICY 0x3001f: SMT, nothing else named
    for (const NamedBit& b : guest_policy_bits()) {
        CAPTURE(b.name);
        bool set = r.policy.raw & b.mask;
        auto p = accepting(r);
        p.required_guest_policy = b.mask;
        std::string name = "policy." + std::string(b.name);
        if (set)
            CHECK(all_pass(evaluate(p, r, Product::Genoa)));
        else
            CHECK(fails_only(p, r, Product::Genoa, name).expected == "1");
        p = accepting(r);
        p.forbidden_guest_policy = b.mask;
        if (set)
            CHECK(fails_only(p, r, Product::Genoa, name).found == "1");
        else
            CHECK(all_pass(evaluate(p, r, Product::Genoa)));
        // The bit set in the report flips each outcome.
        auto flipped = r;
        flipped.policy.raw ^= b.mask;
        p = accepting(r);
        p.required_guest_policy = b.mask;
        CHECK(all_pass(evaluate(p, flipped, Product::Genoa)) == !set);
    }
    auto p = accepting(r);
    p.allow_smt = false;  // the same as forbidding smt
    CHECK(fails_only(p, r, Product::Genoa, "policy.smt").expected == "0");
    p = accepting(r);
    p.require_single_socket = true;
    CHECK(fails_only(p, r, Product::Genoa, "policy.single_socket").expected == "1");
}

TEST_CASE("REPORT_ID_MA exact value")
{
    auto r = report("trustee_azure_genoa_v3");  // all 0xff: no migration agent
    auto p = accepting(r);
    p.report_id_ma.emplace().fill(0xff);
    CHECK(all_pass(evaluate(p, r, Product::Genoa)));
    (*p.report_id_ma)[31] = 0;
    Claim c = fails_only(p, r, Product::Genoa, "policy.report_id_ma");
    CHECK(c.found == std::string(64, 'f'));
}

TEST_CASE("strict fails the real reports for exactly what they lack")
{
    auto turin = report("oak_turin_v5");  // alias check complete, SMT enabled
    Policy p = Policy::strict(true);
    p.measurements = {turin.measurement};
    CHECK(all_pass(evaluate(p, turin, Product::Turin)));
    p = Policy::strict(false);
    p.measurements = {turin.measurement};
    auto claims = evaluate(p, turin, Product::Turin);
    std::vector<std::string> failed;
    for (const Claim& c : claims) {
        if (!c.pass)
            failed.push_back(c.name);
    }
    CHECK(failed == std::vector<std::string>{"policy.smt", "policy.platform_info_forbidden"});

    auto genoa = report("trustee_azure_genoa_v3");  // PLATFORM_INFO 0x24: ecc, alias check complete
    p = Policy::strict(true);
    p.measurements = {genoa.measurement};
    CHECK(all_pass(evaluate(p, genoa, Product::Genoa)));
    auto milan = report("virtee_milan_v2");  // PLATFORM_INFO 0x1: no alias check
    p.measurements = {milan.measurement};
    CHECK(fails_only(p, milan, Product::Milan, "policy.platform_info").found == "0x1 (smt)");
}
