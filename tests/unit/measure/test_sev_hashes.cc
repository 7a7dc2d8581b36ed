// The SEV hashes table and page, the command-line hash, and the bzImage check.
#include <doctest.h>

#include "measure/bzimage.h"
#include "measure/sev_hashes.h"
#include "temp_dir.h"

using namespace cvm;
using namespace cvm::measure;

namespace {

bool contains(const Error& e, const char* part)
{
    return std::string(e.message()).find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("command-line hashes include the terminating NUL")
{
    CHECK(to_hex(cmdline_hash("")) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    CHECK(to_hex(cmdline_hash("console=ttyS0 loglevel=7")) ==
          "321c8eec6a77bad179511397f913a083067ad8cb737bb260aacbfe8df70fc50a");
}

TEST_CASE("the padded hashes table, byte for byte")
{
    KernelHashes h;
    h.cmdline.fill(0x11);
    h.initrd.fill(0x22);
    h.kernel.fill(0x33);
    PaddedSevHashTable t = build_sev_hash_table(h);
    // GUIDs in EFI byte order as QEMU writes them (measure.md §2.5's trace of a real table).
    CHECK(to_hex(ByteView(t).subspan(0x00, 0x12)) == "06d63894224fc94cb479a793d411fd21a800");
    CHECK(to_hex(ByteView(t).subspan(0x12, 0x12)) == "d82dd09720bd944caa78e7714d36ab2a3200");
    CHECK(to_hex(ByteView(t).subspan(0x44, 0x12)) == "31f7ba442f3ad74b9af141e29169781d3200");
    CHECK(to_hex(ByteView(t).subspan(0x76, 0x12)) == "3794e74dd2ab7f42b835d5b172d2045b3200");
    CHECK(ByteView(t).subspan(0x24, 32)[0] == 0x11);
    CHECK(ByteView(t).subspan(0x56, 32)[31] == 0x22);
    CHECK(ByteView(t).subspan(0x88, 32)[0] == 0x33);
    CHECK(all_zero(ByteView(t).subspan(0xa8)));

    auto page = build_sev_hashes_page(h, 0xC00);
    CHECK(all_zero(ByteView(page).first(0xC00)));
    CHECK(std::equal(t.begin(), t.end(), page.begin() + 0xC00));
    CHECK(all_zero(ByteView(page).subspan(0xC00 + t.size())));
}

TEST_CASE("bzImage headers")
{
    CHECK(check_bzimage_header({}).ok());
    CHECK(check_bzimage_header(test::fake_bzimage(0x300)).ok());
    Bytes short_image = test::fake_bzimage(0x300);
    CHECK(contains(check_bzimage_header(ByteView(short_image).first(0x100)).error(), "too short"));
    Bytes elf = test::fake_bzimage(0x300);
    elf[0x202] = 0x7F;
    CHECK(contains(check_bzimage_header(elf).error(), "not a bzImage: no Linux boot protocol header"));
    Bytes no_flag = test::fake_bzimage(0x300);
    no_flag[0x1FE] = 0;
    CHECK(contains(check_bzimage_header(no_flag).error(), "boot_flag 0xaa00"));
    CHECK(contains(check_bzimage_header(test::fake_bzimage(0x300, 0x0104)).error(), "boot protocol 1.04"));
}

TEST_CASE("kernel and initrd are hashed from their files")
{
    test::TempDir dir;
    Bytes kernel = test::fake_bzimage(3 << 20);
    Bytes initrd(5 << 20, 0x5A);
    std::string kernel_path = dir.write("vmlinuz", kernel);
    std::string initrd_path = dir.write("initrd", initrd);

    KernelHashes h = hash_kernel_inputs(kernel_path, initrd_path, "quiet").value();
    CHECK(h.kernel == crypto::Sha256::of(kernel));
    CHECK(h.initrd == crypto::Sha256::of(initrd));
    CHECK(h.cmdline == cmdline_hash("quiet"));

    KernelHashes no_initrd = hash_kernel_inputs(kernel_path, std::nullopt, "").value();
    CHECK(to_hex(no_initrd.initrd) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    auto not_kernel = hash_kernel_inputs(initrd_path, std::nullopt, "");
    REQUIRE_FALSE(not_kernel.ok());
    CHECK(contains(not_kernel.error(), "initrd: not a bzImage"));
    auto missing = hash_kernel_inputs(kernel_path, dir.write("x", {}) + ".missing", "");
    REQUIRE_FALSE(missing.ok());
    CHECK(contains(missing.error(), "x.missing"));
}
