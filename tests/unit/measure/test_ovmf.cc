// The OVMF footer table and SEV metadata parsers: the real fixtures, then malformed images.
#include <doctest.h>

#include "image_builder.h"
#include "measure/ovmf.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::measure;
using cvm::test::image_with_metadata;
using cvm::test::image_with_table;
using cvm::test::sev_metadata;
using cvm::test::u32_data;

namespace {

std::string parse_error(Bytes image)
{
    auto fw = FirmwareImage::parse(std::move(image), FOUR_GIB);
    return fw.ok() ? "parsed" : std::string(fw.error().message());
}

bool contains(const std::string& s, const char* part)
{
    return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("the AmdSev fixture: reset block, hashes table, seven sections")
{
    auto fw = FirmwareImage::parse(test::read_vector("measure/ovmf_AmdSev_suffix.bin"), FOUR_GIB).value();
    CHECK(fw.gpa() == 0xFFFFF000);
    CHECK(fw.table().present());
    CHECK(fw.table().entries().size() == 5);
    CHECK(fw.sev_es_reset_eip() == 0x80b004u);
    REQUIRE(fw.hash_table_area());
    CHECK(fw.hash_table_area()->base == 0x810C00);
    CHECK(fw.hash_table_area()->size == 0x400);
    CHECK_FALSE(fw.svsm_entry_offset());
    const std::vector<std::array<uint32_t, 3>> expected = {
        {0x800000, 0x9000, 1}, {0x80a000, 0x3000, 1},    {0x80d000, 0x1000, 2}, {0x80e000, 0x1000, 3},
        {0x80f000, 0x1000, 4}, {0x810000, 0x1000, 0x10}, {0x811000, 0xf000, 1},
    };
    REQUIRE(fw.sections().size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        CHECK(fw.sections()[i].gpa == expected[i][0]);
        CHECK(fw.sections()[i].size == expected[i][1]);
        CHECK(static_cast<uint32_t>(fw.sections()[i].type) == expected[i][2]);
    }
    CHECK(to_string(fw.table().entries()[0].guid) == "00f771de-1a7e-4fcb-890e-68c77e2fb44e");
}

TEST_CASE("the OvmfX64 fixture has no kernel-hashes section and a zero hashes table")
{
    auto fw = FirmwareImage::parse(test::read_vector("measure/ovmf_OvmfX64_suffix.bin"), FOUR_GIB).value();
    CHECK(fw.sections().size() == 6);
    CHECK(fw.find_section(SectionType::SnpKernelHashes) == nullptr);
    REQUIRE(fw.hash_table_area());
    CHECK(fw.hash_table_area()->base == 0);
}

TEST_CASE("the SVSM image has its entry point and its own metadata")
{
    auto svsm = FirmwareImage::load(test::vector_path("measure/svsm.bin"), 0xffc84000 - 540672).value();
    CHECK(svsm.gpa() == 0xffaea000);
    CHECK(svsm.svsm_entry_offset() == 0u);
    REQUIRE(svsm.sections().size() == 3);
    CHECK(svsm.sections()[0].type == SectionType::SnpSecMem);
    CHECK(svsm.sections()[0].size == 0x9e000);
}

TEST_CASE("an image without the footer GUID has no table, and is not an error")
{
    Bytes plain(8192, 0);
    auto fw = FirmwareImage::parse(plain, FOUR_GIB).value();
    CHECK_FALSE(fw.table().present());
    CHECK(fw.sections().empty());
    CHECK_FALSE(fw.sev_es_reset_eip());
}

TEST_CASE("truncated images")
{
    CHECK(contains(parse_error(Bytes(49, 0)), "too small for an OVMF footer table"));
    Bytes fixture = test::read_vector("measure/ovmf_AmdSev_suffix.bin");
    // Cutting the start leaves the footer but moves the metadata out of the image.
    std::string e = parse_error(Bytes(fixture.end() - 0x500, fixture.end()));
    CHECK(contains(e, "SEV metadata offset 0x554"));
    CHECK(contains(e, "outside the 1280-byte image"));
    // Every cut, from either end, parses or fails cleanly; the parser never reads outside.
    for (size_t keep = 0; keep <= fixture.size(); keep += 7) {
        (void)FirmwareImage::parse(Bytes(fixture.end() - keep, fixture.end()), FOUR_GIB);
        (void)FirmwareImage::parse(Bytes(fixture.begin(), fixture.begin() + keep), FOUR_GIB);
    }
}

TEST_CASE("malformed footer table lengths")
{
    Bytes good = image_with_table({{SEV_ES_RESET_BLOCK_GUID, u32_data(0x80b004)}});
    REQUIRE(parse_error(good) == "parsed");
    const size_t footer_len = 4096 - 50, entry_len = footer_len - 18;

    SUBCASE("footer length below its own entry")
    {
        good[footer_len] = 17;
        CHECK(contains(parse_error(good), "OVMF footer table length 0x11"));
    }
    SUBCASE("footer length beyond the start of the image")
    {
        good[footer_len] = 0xFF;
        good[footer_len + 1] = 0xFF;
        CHECK(contains(parse_error(good), "is out of range"));
    }
    SUBCASE("entry length below 18")
    {
        good[entry_len] = 10;
        CHECK(contains(parse_error(good), "has length 0xa, expected 0x12 to 0x16"));
    }
    SUBCASE("entry length beyond the table")
    {
        good[entry_len] = 23;
        CHECK(contains(parse_error(good), "has length 0x17"));
    }
    SUBCASE("bytes left over that are not an entry")
    {
        good[footer_len] = 18 + 22 + 5;
        CHECK(contains(parse_error(good), "5 bytes at offset"));
    }
}

TEST_CASE("entries: duplicates and wrong data lengths")
{
    CHECK(contains(
        parse_error(image_with_table({{SEV_ES_RESET_BLOCK_GUID, u32_data(1)}, {SEV_ES_RESET_BLOCK_GUID, u32_data(2)}})),
        "entry 00f771de-1a7e-4fcb-890e-68c77e2fb44e appears twice"));
    CHECK(contains(parse_error(image_with_table({{SEV_ES_RESET_BLOCK_GUID, Bytes{1, 2, 3}}})),
                   "SEV-ES reset block entry: value at offset 0x0 is truncated"));
    CHECK(
        contains(parse_error(image_with_table({{SEV_ES_RESET_BLOCK_GUID, Bytes{1, 2, 3, 4, 5}}})), "1 trailing bytes"));
    CHECK(contains(parse_error(image_with_table({{SEV_HASH_TABLE_RV_GUID, u32_data(0x810C00)}})),
                   "SEV hash table entry: size at offset 0x4 is truncated"));
}

TEST_CASE("malformed SEV metadata headers")
{
    Bytes meta = sev_metadata({{0x800000, 0x1000, 1}});
    REQUIRE(parse_error(image_with_metadata(meta)) == "parsed");

    Bytes bad_signature = meta;
    bad_signature[0] = 'X';
    CHECK(contains(parse_error(image_with_metadata(bad_signature)), "signature is not \"ASEV\""));
    CHECK(contains(parse_error(image_with_metadata(sev_metadata({{0x800000, 0x1000, 1}}, 2))),
                   "SEV metadata version is 2, expected 1"));
    Bytes bad_size = meta;
    bad_size[4] = 40;
    CHECK(contains(parse_error(image_with_metadata(bad_size)), "does not match its 1 descriptors"));
    Bytes too_many = meta;
    put_le32(&too_many[12], 0x1000000);
    CHECK(contains(parse_error(image_with_metadata(too_many)), "does not match its 16777216 descriptors"));
    CHECK(contains(parse_error(image_with_metadata(sev_metadata({{0x800000, 0x1000, 7}}))),
                   "section 0 has unknown type 0x7"));
    CHECK(contains(parse_error(image_with_table({{OVMF_SEV_METADATA_GUID, u32_data(8)}})), "offset 0x8"));
}

TEST_CASE("out-of-range and overlapping sections")
{
    auto error_for = [](std::vector<test::Section> sections) {
        return parse_error(image_with_metadata(sev_metadata(sections)));
    };
    CHECK(contains(error_for({{0x800800, 0x1000, 1}}), "(SNP_SEC_MEM at 0x800800, 0x1000 bytes) is not a non-empty"));
    CHECK(contains(error_for({{0x800000, 0x800, 1}}), "is not a non-empty run of whole 4 KiB pages"));
    CHECK(contains(error_for({{0x800000, 0, 1}}), "is not a non-empty run"));
    CHECK(contains(error_for({{0xFFFFF000, 0x2000, 1}}), "reaches past 4 GiB"));
    CHECK(contains(error_for({{0xFFFFE000, 0x2000, 1}}), "overlaps the firmware image itself"));
    CHECK(contains(error_for({{0x80d000, 0x2000, 2}}), "(SNP_SECRETS at 0x80d000, 0x2000 bytes) must be exactly one"));
    CHECK(contains(error_for({{0x800000, 0x9000, 1}, {0x808000, 0x1000, 3}}),
                   "sections 0 (SNP_SEC_MEM at 0x800000, 0x9000 bytes) and 1 (CPUID at 0x808000) overlap"));
    // The overlap is found whatever the file order.
    CHECK(contains(error_for({{0x811000, 0x1000, 4}, {0x800000, 0x1000, 2}, {0x810000, 0x2000, 1}}),
                   "sections 2 (SNP_SEC_MEM at 0x810000, 0x2000 bytes) and 0 (SVSM_CAA at 0x811000) overlap"));
    CHECK(error_for({{0x811000, 0x1000, 4}, {0x800000, 0x1000, 2}, {0x810000, 0x1000, 0x10}}) == "parsed");
}
