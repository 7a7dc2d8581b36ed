#include <doctest.h>

#include "snp/cert_table.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::snp;

TEST_CASE("the synthesized tables from real certificates parse")
{
    auto turin = parse_cert_table(test::read_vector("snp-reports/oak_turin_v5/certs_table_SYNTH.bin")).value();
    bool has_vcek = false;
    for (const auto& e : turin) {
        if (e.kind == CertKind::Vcek) {
            has_vcek = true;
            CHECK(e.der == test::read_vector("snp-reports/oak_turin_v5/vcek.der"));
        }
    }
    CHECK(has_vcek);

    auto vlek = parse_cert_table(test::read_vector("snp-reports/trustee_milan_vlek_v3/certs_table_SYNTH.bin")).value();
    bool has_vlek = false;
    for (const auto& e : vlek)
        has_vlek |=
            e.kind == CertKind::Vlek && e.der == test::read_vector("snp-reports/trustee_milan_vlek_v3/vlek.der");
    CHECK(has_vlek);
}

TEST_CASE("build and parse round trip, page padding ignored")
{
    std::vector<CertEntry> entries = {{GUID_VCEK, CertKind::Vcek, {1, 2, 3}}, {GUID_ASK, CertKind::Ask, {4, 5}}};
    Bytes table = build_cert_table(entries);
    table.resize(4096, 0);
    auto parsed = parse_cert_table(table).value();
    REQUIRE(parsed.size() == 2);
    CHECK(parsed[0].kind == CertKind::Vcek);
    CHECK(parsed[0].der == Bytes{1, 2, 3});
    CHECK(parsed[1].der == Bytes{4, 5});
    CHECK(cert_ders(parsed) == std::vector<Bytes>{{1, 2, 3}, {4, 5}});
    CHECK(guid_to_string(GUID_VCEK) == "63da758d-e664-4564-adc5-f4b93be8accd");
}

TEST_CASE("malformed tables are rejected")
{
    std::vector<CertEntry> entries = {{GUID_VCEK, CertKind::Vcek, {1, 2, 3}}};
    Bytes good = build_cert_table(entries);

    SUBCASE("no terminator")
    {
        CHECK_FALSE(parse_cert_table(ByteView(good).first(24)).ok());
    }
    SUBCASE("blob past the end")
    {
        Bytes b = good;
        put_le32(b.data() + 20, 100);
        CHECK(std::string(parse_cert_table(b).error().message()).find("past the") != std::string::npos);
    }
    SUBCASE("offset inside the entry array")
    {
        Bytes b = good;
        put_le32(b.data() + 16, 8);
        CHECK(std::string(parse_cert_table(b).error().message()).find("inside the") != std::string::npos);
    }
    SUBCASE("empty blob")
    {
        Bytes b = good;
        put_le32(b.data() + 20, 0);
        CHECK_FALSE(parse_cert_table(b).ok());
    }
    SUBCASE("duplicate GUID")
    {
        entries.push_back({GUID_VCEK, CertKind::Vcek, {9}});
        CHECK(std::string(parse_cert_table(build_cert_table(entries)).error().message()).find("twice") !=
              std::string::npos);
    }
    SUBCASE("oversized buffer")
    {
        Bytes b = good;
        b.resize(CERT_TABLE_MAX_SIZE + 1);
        CHECK_FALSE(parse_cert_table(b).ok());
    }
    SUBCASE("empty input")
    {
        CHECK_FALSE(parse_cert_table({}).ok());
    }
}
