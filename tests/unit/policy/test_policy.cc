#include <doctest.h>

#include <string>

#include "policy/policy.h"
#include "report_vectors.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::policy;

namespace {

snp::AttestationReport report(const std::string& dir)
{
    return snp::parse_report(test::read_vector(test::report_path(dir))).value();
}

const Claim* find(const std::vector<Claim>& claims, const std::string& name)
{
    for (const Claim& c : claims) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

Policy accepting(const snp::AttestationReport& r)
{
    Policy p;
    p.measurements = {r.measurement};
    p.max_vmpl = r.vmpl;
    return p;
}

}  // namespace

TEST_CASE("baseline: the DEBUG vector fails on debug and nothing else")
{
    auto claims = evaluate(Policy::baseline(), report("gosevguest_milan_v2"), snp::Product::Milan);
    for (const Claim& c : claims) {
        CAPTURE(c.name);
        CHECK(c.pass == (c.name != "policy.debug"));
    }
    const Claim* debug = find(claims, "policy.debug");
    REQUIRE(debug);
    CHECK(debug->found == "1");
    CHECK(debug->expected == "0");
    const Claim* measurement = find(claims, "policy.measurement");
    REQUIRE(measurement);
    CHECK(measurement->expected == "any");
}

TEST_CASE("baseline passes the production vectors")
{
    const std::pair<const char*, snp::Product> vectors[] = {{"virtee_milan_v2", snp::Product::Milan},
                                                            {"trustee_azure_genoa_v3", snp::Product::Genoa},
                                                            {"oak_turin_v5", snp::Product::Turin},
                                                            {"trustee_milan_vlek_v3", snp::Product::Milan}};
    for (const auto& vector : vectors) {
        const char* dir = vector.first;  // a plain variable: clang 14 cannot capture a binding in CAPTURE
        snp::Product product = vector.second;
        CAPTURE(dir);
        auto claims = evaluate(Policy::baseline(), report(dir), product);
        CHECK(all_pass(claims));
        CHECK(claims.size() == claim_names().size());
    }
}

TEST_CASE("each policy field off by one fails naming the field")
{
    auto r = report("trustee_azure_genoa_v3");  // ABI 0.31, VMPL 0, PLATFORM_INFO 0x24
    auto fails_only = [&](const Policy& p, const std::string& name) {
        auto claims = evaluate(p, r, snp::Product::Genoa);
        for (const Claim& c : claims) {
            CAPTURE(c.name);
            CHECK(c.pass == (c.name != name));
        }
        CHECK(find(claims, name));
    };
    CHECK(all_pass(evaluate(accepting(r), r, snp::Product::Genoa)));

    Policy p = accepting(r);
    p.measurements[0][47] ^= 1;
    fails_only(p, "policy.measurement");

    p = accepting(r);
    p.min_abi_major = 0;
    p.min_abi_minor = 32;
    fails_only(p, "policy.min_abi");
    p.min_abi_minor = 31;
    CHECK(all_pass(evaluate(p, r, snp::Product::Genoa)));

    p = accepting(r);
    p.allow_smt = false;
    fails_only(p, "policy.smt");

    p = accepting(r);
    p.require_single_socket = true;
    fails_only(p, "policy.single_socket");

    p = accepting(r);
    p.report_data = r.report_data;
    (*p.report_data)[63] ^= 0x80;
    fails_only(p, "policy.report_data");

    p = accepting(r);
    p.host_data = r.host_data;
    (*p.host_data)[0] ^= 1;
    fails_only(p, "policy.host_data");

    p = accepting(r);
    p.min_guest_svn = r.guest_svn + 1;
    fails_only(p, "policy.guest_svn");

    p = accepting(r);
    p.required_platform_info = *platform_info_bit("tsme");
    fails_only(p, "policy.platform_info");
    p.required_platform_info = *platform_info_bit("alias_check_complete");
    CHECK(all_pass(evaluate(p, r, snp::Product::Genoa)));

    p = accepting(r);
    p.id_key_digests = {r.id_key_digest};
    p.id_key_digests[0][0] ^= 1;
    fails_only(p, "policy.id_key_digest");

    p = accepting(r);
    p.author_key_digests = {r.author_key_digest};
    fails_only(p, "policy.author_key_digest");  // AUTHOR_KEY_EN is 0 in this report
}

TEST_CASE("VMPL and minimum TCB per product")
{
    auto r = report("trustee_milan_vlek_v3");  // VMPL 1, REPORTED_TCB bl=4 tee=0 snp=24 ucode=217
    Policy p = accepting(r);
    p.permit_provisional_firmware = true;  // COMMITTED_TCB ucode 219 < CURRENT_TCB ucode 220
    p.max_vmpl = 0;
    auto claims = evaluate(p, r, snp::Product::Milan);
    const Claim* vmpl = find(claims, "policy.vmpl");
    REQUIRE(vmpl);
    CHECK_FALSE(vmpl->pass);
    CHECK(vmpl->found == "1");

    p.max_vmpl = 1;
    p.min_tcb[snp::Product::Milan] = {0, 4, 0, 24, 217};
    CHECK(all_pass(evaluate(p, r, snp::Product::Milan)));
    for (int component = 0; component < 4; ++component) {
        snp::TcbVersion min{0, 4, 0, 24, 217};
        uint8_t* fields[] = {&min.boot_loader, &min.tee, &min.snp, &min.microcode};
        ++*fields[component];
        p.min_tcb[snp::Product::Milan] = min;
        claims = evaluate(p, r, snp::Product::Milan);
        const Claim* tcb = find(claims, "policy.min_tcb");
        REQUIRE(tcb);
        CHECK_FALSE(tcb->pass);
    }
    // A policy with TCB minimums for other products only does not silently pass this one.
    p.min_tcb.clear();
    p.min_tcb[snp::Product::Genoa] = {};
    claims = evaluate(p, r, snp::Product::Milan);
    REQUIRE(find(claims, "policy.min_tcb"));
    CHECK_FALSE(find(claims, "policy.min_tcb")->pass);
}

TEST_CASE("debug and migration agent can be allowed explicitly")
{
    auto r = report("gosevguest_milan_v2");
    Policy p = accepting(r);
    CHECK_FALSE(all_pass(evaluate(p, r, snp::Product::Milan)));
    p.allow_debug = true;
    CHECK(all_pass(evaluate(p, r, snp::Product::Milan)));
}

TEST_CASE("simulated evidence passes only a policy that allows it")
{
    auto r = report("trustee_azure_genoa_v3");
    Policy p = accepting(r);
    auto amd_claims = evaluate(p, r, snp::Product::Genoa);
    const Claim* amd = find(amd_claims, "policy.simulated");
    REQUIRE(amd);
    CHECK(amd->pass);
    CHECK(amd->found == "AMD-rooted evidence");
    auto claims = evaluate(p, r, snp::Product::Genoa, Origin::Simulated);
    const Claim* c = find(claims, "policy.simulated");
    REQUIRE(c);
    CHECK_FALSE(c->pass);
    CHECK(c->expected.find("allow_simulated = false") != std::string::npos);
    p.allow_simulated = true;
    CHECK(all_pass(evaluate(p, r, snp::Product::Genoa, Origin::Simulated)));
    CHECK(all_pass(evaluate(Policy::baseline(), r, snp::Product::Genoa, Origin::Simulated)));
}
