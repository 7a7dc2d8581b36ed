// to_toml() and parse_policy_toml() round trips; the strict profile; the claim list.
#include <doctest.h>

#include <set>
#include <string>

#include "policy/policy.h"
#include "report_vectors.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::policy;

namespace {

Policy round_trip(const Policy& p)
{
    std::string text = to_toml(p);
    auto back = parse_policy_toml(text);
    INFO(text);
    REQUIRE(back.ok());
    return back.value();
}

Measurement measurement(uint8_t fill)
{
    Measurement m;
    m.fill(fill);
    return m;
}

}  // namespace

TEST_CASE("strict: the recommended production values")
{
    for (bool smt : {true, false}) {
        Policy p = Policy::strict(smt);
        CHECK_FALSE(p.allow_debug);
        CHECK_FALSE(p.allow_migration_agent);
        CHECK_FALSE(p.permit_provisional_firmware);
        CHECK(p.revocation);
        CHECK(p.required_platform_info == *platform_info_bit("alias_check_complete"));
        CHECK(p.allow_smt == smt);
        CHECK(p.forbidden_platform_info == (smt ? 0 : *platform_info_bit("smt")));
        CHECK(p.measurements.empty());
        CHECK_FALSE(p.is_baseline);
    }
}

TEST_CASE("strict as printed is refused until its measurement is filled in")
{
    std::string text = to_toml(Policy::strict(false));
    auto parsed = parse_policy_toml(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(std::string(parsed.error().message()) == "policy key 'measurements': expected 96 hex digits");

    Policy p = Policy::strict(false);
    p.measurements = {measurement(0xab)};
    CHECK(round_trip(p) == p);
    p = Policy::strict(true);
    p.measurements = {measurement(0xcd)};
    CHECK(round_trip(p) == p);
}

TEST_CASE("a baseline-like policy and a full policy read back equal")
{
    Policy p = Policy::baseline();
    p.is_baseline = false;
    p.measurements = {measurement(1)};
    CHECK(round_trip(p) == p);

    Policy f;
    f.allow_debug = true;
    f.allow_migration_agent = true;
    f.allow_smt = false;
    f.require_single_socket = true;
    f.required_guest_policy = *guest_policy_bit("mem_aes_256_xts") | *guest_policy_bit("page_swap_disable");
    f.forbidden_guest_policy = *guest_policy_bit("cxl_allow") | *guest_policy_bit("rapl_dis");
    f.min_abi_major = 1;
    f.min_abi_minor = 55;
    f.max_vmpl = 2;
    f.min_guest_svn = 7;
    f.min_tcb[snp::Product::Milan] = {0, 3, 0, 8, 115};
    f.min_tcb[snp::Product::Turin] = {1, 2, 3, 4, 5};
    f.min_committed_tcb[snp::Product::Genoa] = {0, 9, 0, 21, 84};
    f.min_launch_tcb[snp::Product::Turin] = {0, 1, 0, 2, 71};
    f.permit_provisional_firmware = true;
    f.min_build = 29;
    f.min_version = std::pair<uint8_t, uint8_t>(1, 55);
    f.min_report_version = 5;
    f.min_launch_mit_vector = 0x1;
    f.min_current_mit_vector = 0x7fff'0000'0000'0003;
    f.measurements = {measurement(2), measurement(3)};
    f.report_data.emplace().fill(4);
    f.host_data.emplace().fill(5);
    f.family_id.emplace().fill(6);
    f.image_id.emplace().fill(7);
    f.report_id_ma.emplace().fill(0xff);
    f.id_key_digests = {measurement(8)};
    f.author_key_digests = {measurement(9), measurement(10)};
    f.chip_ids = {ChipId{}, ChipId{}};
    f.chip_ids[0].fill(0x11);
    f.chip_ids[1][0] = 0x12;
    f.required_platform_info = *platform_info_bit("tsme") | *platform_info_bit("ecc");
    f.forbidden_platform_info = *platform_info_bit("smt") | *platform_info_bit("tio");
    f.allow_simulated = true;
    f.revocation = false;
    Policy back = round_trip(f);
    CHECK(back == f);
    // Every key of the file is in the text, set or commented.
    std::string text = to_toml(Policy::strict(true));
    for (const char* key : {"measurements",
                            "allow_debug",
                            "allow_migration_agent",
                            "allow_smt",
                            "require_single_socket",
                            "require_guest_policy",
                            "forbid_guest_policy",
                            "min_abi",
                            "report_data",
                            "host_data",
                            "family_id",
                            "image_id",
                            "report_id_ma",
                            "id_key_digests",
                            "author_key_digests",
                            "chip_ids",
                            "min_guest_svn",
                            "max_vmpl",
                            "min_report_version",
                            "min_launch_mit_vector",
                            "min_current_mit_vector",
                            "require_platform_info",
                            "forbid_platform_info",
                            "permit_provisional_firmware",
                            "min_build",
                            "min_version",
                            "revocation",
                            "allow_simulated",
                            "[min_tcb.",
                            "[min_committed_tcb.",
                            "[min_launch_tcb."}) {
        CAPTURE(key);
        CHECK(text.find(key) != std::string::npos);
    }
}

TEST_CASE("claim names: every evaluation produces exactly these, in this order")
{
    const auto& names = claim_names();
    CHECK(std::set<std::string_view>(names.begin(), names.end()).size() == names.size());
    for (std::string_view n : names)
        CHECK(n.starts_with("policy."));
    auto r = snp::parse_report(test::read_vector(test::report_path("oak_turin_v5"))).value();
    Policy p;
    p.measurements = {r.measurement};
    for (Origin origin : {Origin::Amd, Origin::Simulated}) {
        for (const Policy& policy : {p, Policy::baseline(), Policy::strict(false)}) {
            auto claims = evaluate(policy, r, snp::Product::Turin, origin);
            REQUIRE(claims.size() == names.size());
            for (size_t i = 0; i < names.size(); ++i)
                CHECK(claims[i].name == names[i]);
        }
    }
    auto none = not_evaluated("the report does not parse");
    REQUIRE(none.size() == names.size());
    for (size_t i = 0; i < names.size(); ++i) {
        CHECK(none[i].name == names[i]);
        CHECK_FALSE(none[i].pass);
        CHECK(none[i].found == "not checked");
        CHECK(none[i].detail == "the report does not parse");
    }
}
