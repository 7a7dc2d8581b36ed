#include <doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "report_vectors.h"
#include "snp/report.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::snp;

TEST_CASE("every real report parses and serializes back to the same bytes")
{
    for (const auto& dir : test::REPORT_VECTORS) {
        CAPTURE(dir);
        Bytes raw = test::read_vector(test::report_path(dir));
        auto r = parse_report(raw);
        REQUIRE_MESSAGE(r.ok(), std::string(r.error().message()));
        auto back = serialize_report(r.value());
        CHECK(Bytes(back.begin(), back.end()) == raw);
    }
}

TEST_CASE("field values of the real reports")
{
    auto milan = parse_report(test::read_vector(test::report_path("gosevguest_milan_v2"))).value();
    CHECK(milan.version == 2);
    CHECK(milan.policy.raw == 0xb0000);
    CHECK(milan.policy.debug());
    CHECK(milan.policy.smt());
    CHECK(milan.signing_key == SigningKey::Vcek);
    CHECK(milan.current_major == 1);
    CHECK(milan.current_minor == 0x31);
    CHECK_FALSE(milan.cpuid_product());

    auto vlek = parse_report(test::read_vector(test::report_path("trustee_milan_vlek_v3"))).value();
    CHECK(vlek.version == 3);
    CHECK(vlek.vmpl == 1);
    CHECK(vlek.signing_key == SigningKey::Vlek);
    CHECK(all_zero(vlek.chip_id));
    CHECK(vlek.cpuid_product() == Product::Milan);

    auto genoa = parse_report(test::read_vector(test::report_path("trustee_azure_genoa_v3"))).value();
    CHECK(genoa.cpuid_product() == Product::Genoa);
    CHECK(genoa.policy.abi_minor() == 0x1f);
    CHECK(genoa.platform_info.alias_check_complete());

    auto turin = parse_report(test::read_vector(test::report_path("oak_turin_v5"))).value();
    CHECK(turin.version == 5);
    CHECK(turin.cpuid_product() == Product::Turin);
    CHECK(turin.platform_info.raw == 0x67);
    CHECK(turin.reported_tcb == 0x4700000002000100ull);
    auto tcb = TcbVersion::decode(turin.reported_tcb, Product::Turin);
    CHECK(tcb.fmc == 0);
    CHECK(tcb.boot_loader == 1);
    CHECK(tcb.snp == 2);
    CHECK(tcb.microcode == 0x47);
}

TEST_CASE("truncated and over-long reports are rejected with their size")
{
    Bytes raw = test::read_vector(test::report_path("virtee_milan_v2"));
    for (size_t size : {size_t(0), size_t(4), REPORT_SIZE - 1, REPORT_SIZE + 1, size_t(4096)}) {
        CAPTURE(size);
        Bytes b = raw;
        b.resize(size);
        auto r = parse_report(b);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message() ==
              "ATTESTATION_REPORT is " + std::to_string(size) + " bytes, expected " + std::to_string(REPORT_SIZE));
    }
}

namespace {

struct Reserved {
    size_t begin, end;
    const char* field;
};

// The reserved ranges of each version, by the name parse_report gives them.
std::vector<Reserved> reserved_ranges(uint32_t version)
{
    std::vector<Reserved> r = {
        {0x04C, 0x050, "reserved 0x04C"},
        {0x1EB, 0x1EC, "reserved 0x1EB"},
        {0x1EF, 0x1F0, "reserved 0x1EF"},
        {0x208, 0x2A0, "reserved 0x208"},
        {0x2A0 + 48, 0x2A0 + 72, "SIGNATURE.R high bytes"},
        {0x2E8 + 48, 0x2E8 + 72, "SIGNATURE.S high bytes"},
        {0x330, 0x4A0, "reserved SIGNATURE tail 0x330"},
    };
    if (version >= 3)
        r.push_back({0x18B, 0x1A0, "reserved 0x18B"});
    else
        r.push_back({0x188, 0x1A0, "reserved 0x188"});
    if (version < 5)
        r.push_back({0x1F8, 0x208, "reserved 0x1F8"});
    return r;
}

// A VERSION 4 report as Milan firmware 1.55.31 writes it: the layout of version 3, so a real v3
// report with only its VERSION changed (the signature no longer verifies; structure only here).
Bytes as_version_4(const std::string& v3_dir)
{
    Bytes raw = test::read_vector(test::report_path(v3_dir));
    REQUIRE(raw[0] == 3);
    raw[0] = 4;
    return raw;
}

}  // namespace

TEST_CASE("a non-zero byte in any reserved range is rejected naming the field")
{
    std::vector<std::pair<std::string, Bytes>> reports;
    for (const auto& dir : test::REPORT_VECTORS)
        reports.emplace_back(dir, test::read_vector(test::report_path(dir)));
    reports.emplace_back("trustee_azure_genoa_v3 as VERSION 4", as_version_4("trustee_azure_genoa_v3"));
    for (const auto& entry : reports) {
        const std::string& dir = entry.first;
        const Bytes& raw = entry.second;
        uint32_t version = raw[0];
        for (const Reserved& range : reserved_ranges(version)) {
            for (size_t off = range.begin; off < range.end; ++off) {
                Bytes b = raw;
                b[off] = 0x01;
                auto r = parse_report(b);
                REQUIRE_FALSE(r.ok());
                std::string msg(r.error().message());
                CAPTURE(dir);
                CAPTURE(off);
                CHECK(msg.find(range.field) != std::string::npos);
                CHECK(r.error().code() == Errc::Format);
            }
        }
    }
}

TEST_CASE("header fields outside their defined values are rejected")
{
    Bytes raw = test::read_vector(test::report_path("virtee_milan_v2"));
    auto with = [&](size_t off, uint8_t value) {
        Bytes b = raw;
        b[off] = value;
        return parse_report(b);
    };
    for (uint8_t v : {uint8_t(0), uint8_t(1), uint8_t(6), uint8_t(7), uint8_t(0xff)}) {
        auto r = with(0x000, v);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Unsupported);
        CHECK(std::string(r.error().message()) ==
              "ATTESTATION_REPORT: VERSION is " + std::to_string(v) + ", expected 2, 3, 4 or 5");
    }
    Bytes high = raw;  // the whole little-endian word counts, not just its low byte
    high[0x001] = 0x01;
    CHECK(std::string(parse_report(high).error().message()).find("VERSION is 258") != std::string::npos);
    CHECK(std::string(with(0x034, 2).error().message()).find("SIGNATURE_ALGO is 2") != std::string::npos);
    CHECK(std::string(with(0x00A, 0x01).error().message()).find("POLICY bit 17") != std::string::npos);
    CHECK(std::string(with(0x00B, 0x04).error().message()).find("POLICY bits 63:26") != std::string::npos);
    CHECK(std::string(with(0x048, 0x08).error().message()).find("SIGNING_KEY is 2") != std::string::npos);
    CHECK(std::string(with(0x048, 0x20).error().message()).find("signer info bits 31:5") != std::string::npos);
    CHECK(with(0x048, 0x1c).value().signing_key == SigningKey::None);
}

TEST_CASE("version 2 keeps the CPUID bytes reserved; version 3 reads them")
{
    Bytes v2 = test::read_vector(test::report_path("virtee_milan_v2"));
    v2[0x188] = 0x19;
    CHECK_FALSE(parse_report(v2).ok());
    Bytes v3 = test::read_vector(test::report_path("trustee_azure_genoa_v3"));
    auto r = parse_report(v3).value();
    CHECK(r.cpuid_fam_id == 0x19);
    CHECK(r.cpuid_mod_id == 0x11);
    CHECK(r.cpuid_step == 0x01);
}

TEST_CASE("version 4 (Milan firmware 1.55.31) parses with the version-3 layout")
{
    for (const char* dir : {"trustee_azure_genoa_v3", "trustee_milan_vlek_v3"}) {
        CAPTURE(dir);
        auto v3 = parse_report(test::read_vector(test::report_path(dir))).value();
        Bytes raw = as_version_4(dir);
        auto parsed = parse_report(raw);
        REQUIRE_MESSAGE(parsed.ok(), std::string(parsed.error().message()));
        const AttestationReport& v4 = parsed.value();
        CHECK(v4.version == 4);
        CHECK(v4.cpuid_fam_id == v3.cpuid_fam_id);  // read at 0x188..0x18A as in version 3
        CHECK(v4.cpuid_mod_id == v3.cpuid_mod_id);
        CHECK(v4.cpuid_step == v3.cpuid_step);
        CHECK(v4.cpuid_product() == v3.cpuid_product());
        CHECK(v4.launch_mit_vector == 0);  // 0x1F8..0x208 stays reserved before version 5
        CHECK(v4.current_mit_vector == 0);
        CHECK(v4.report_data == v3.report_data);
        CHECK(v4.measurement == v3.measurement);
        CHECK(v4.chip_id == v3.chip_id);
        CHECK(v4.reported_tcb == v3.reported_tcb);
        CHECK(v4.signature_r == v3.signature_r);
        auto back = serialize_report(v4);
        CHECK(Bytes(back.begin(), back.end()) == raw);
    }
    auto genoa = parse_report(as_version_4("trustee_azure_genoa_v3")).value();
    CHECK(genoa.cpuid_fam_id == 0x19);
    CHECK(genoa.cpuid_mod_id == 0x11);
    CHECK(genoa.cpuid_product() == Product::Genoa);

    Bytes mit = as_version_4("trustee_azure_genoa_v3");  // version 5's field is not version 4's
    mit[0x1F8] = 1;
    auto r = parse_report(mit);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("reserved 0x1F8") != std::string::npos);
}
