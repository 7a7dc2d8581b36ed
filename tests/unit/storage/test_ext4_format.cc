// format_ext4 against the reference: e2fsck -fn must find nothing to fix, on sparse images, on
// images full of garbage, after debugfs writes a file; and the formatter writes only metadata.
// e2fsck and debugfs come from e2fsprogs; without them these cases are skipped with a message.
#include <doctest.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "storage/block_device.h"
#include "storage/ext4_format.h"
#include "storage_fixture.h"

using namespace cvm;
using namespace cvm::storage;
using cvm::test::check_fsck_clean;
using cvm::test::Run;
using cvm::test::TempImage;

namespace {

constexpr std::array<uint8_t, 16> TEST_UUID{0x5e, 0x1f, 0x0c, 0x7a, 0x11, 0x22, 0x43, 0x44,
                                            0x95, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc};
constexpr std::array<uint8_t, 16> TEST_HASH_SEED{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

Ext4Options fixed_options()
{
    Ext4Options opts;
    opts.label = "cvm-data";
    opts.uuid = TEST_UUID;
    opts.hash_seed = TEST_HASH_SEED;
    opts.creation_time = 1700000000;
    return opts;
}

// Counts what the formatter writes; reads pass through.
class CountingDevice final : public BlockDevice {
public:
    explicit CountingDevice(BlockDevice& inner) : m_inner(inner) {}
    uint64_t size() const override { return m_inner.size(); }
    Result<void> read_at(uint64_t offset, std::span<uint8_t> out) override { return m_inner.read_at(offset, out); }
    Result<void> write_at(uint64_t offset, ByteView data) override
    {
        m_written += data.size();
        ++m_writes;
        return m_inner.write_at(offset, data);
    }
    Result<void> flush() override { return m_inner.flush(); }
    const std::string& name() const override { return m_inner.name(); }
    uint64_t written() const { return m_written; }
    uint64_t writes() const { return m_writes; }

private:
    BlockDevice& m_inner;
    uint64_t m_written{0};
    uint64_t m_writes{0};
};

struct Formatted {
    Ext4Layout layout;
    uint64_t counted_bytes;
    double seconds;
};

Formatted format_image(const std::string& path, const Ext4Options& opts)
{
    auto file = FileBlockDevice::open(path, FileBlockDevice::Mode::ReadWrite);
    REQUIRE(file.ok());
    CountingDevice dev(file.value());
    auto start = std::chrono::steady_clock::now();
    auto layout = format_ext4(dev, opts);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!layout.ok())
        FAIL(std::string(layout.error().message()));
    CHECK(layout->bytes_written == dev.written());
    return {layout.value(), dev.written(), seconds};
}

}  // namespace

TEST_CASE("e2fsck -fn finds nothing to fix on 16 MiB, 1 GiB and odd-sized images")
{
    REQUIRE_TOOL(e2fsck, "e2fsck");
    // 16 MiB: the minimum, one group. 1 GiB: eight groups. The odd sizes end in a short group
    // with a superblock copy (group 3), a short group without one (group 10), a partial block, and
    // a remainder too short to keep.
    for (uint64_t size : {16ull << 20, 1ull << 30, (3ull * 32768 + 5000) * 4096 + 123,
                          (10ull * 32768 + 20000) * 4096 + 2048, (9ull * 32768 + 70) * 4096}) {
        CAPTURE(size);
        TempImage image(size);
        format_image(image.path(), fixed_options());
        check_fsck_clean(e2fsck, image.path());
    }
}

TEST_CASE("1 GiB: well under 1% of the device is written")
{
    REQUIRE_TOOL(e2fsck, "e2fsck");
    TempImage image(1ull << 30);
    Formatted f = format_image(image.path(), fixed_options());
    MESSAGE("1 GiB: " << f.counted_bytes << " bytes written in " << f.seconds << " s");
    CHECK(f.layout.block_count == 262144);
    CHECK(f.layout.group_count == 8);
    CHECK(f.layout.inode_count == 65536);
    CHECK(f.layout.journal_blocks == 8192);
    CHECK(f.counted_bytes < (1ull << 30) / 100);
    check_fsck_clean(e2fsck, image.path());
}

TEST_CASE("100 GiB, 200 GiB and 1 TiB sparse images: metadata only, and e2fsck -fn clean")
{
    REQUIRE_TOOL(e2fsck, "e2fsck");
    // 200 GiB and up: a 1 GiB journal in eight runs, so its extents live in a leaf block.
    for (uint64_t size : {100ull << 30, 200ull << 30, 1ull << 40}) {
        TempImage image(size);
        Formatted f = format_image(image.path(), fixed_options());
        MESSAGE((size >> 30) << " GiB: " << f.layout.group_count << " groups, " << f.counted_bytes
                             << " bytes written in " << f.seconds << " s");
        CHECK(f.counted_bytes < size / 10000);  // under 0.01%
        check_fsck_clean(e2fsck, image.path());
    }
}

TEST_CASE("blocks the formatter does not write may hold garbage: e2fsck -fn still clean")
{
    REQUIRE_TOOL(e2fsck, "e2fsck");
    REQUIRE(sodium_init() >= 0);
    // Four groups (1 lazily initialised with a superblock copy, the journal in 2, a short last
    // group with a copy), every byte random before formatting, as a fresh dm-crypt volume reads.
    uint64_t size = (3ull * 32768 + 3000) * 4096;
    TempImage image(size);
    {
        auto dev = FileBlockDevice::open(image.path(), FileBlockDevice::Mode::ReadWrite);
        REQUIRE(dev.ok());
        Bytes chunk(1 << 20);
        for (uint64_t off = 0; off < size; off += chunk.size()) {
            randombytes_buf(chunk.data(), chunk.size());
            uint64_t n = std::min<uint64_t>(chunk.size(), size - off);
            REQUIRE(dev->write_at(off, ByteView(chunk).first(n)).ok());
        }
    }
    Formatted f = format_image(image.path(), fixed_options());
    CHECK(f.counted_bytes < size / 20);
    check_fsck_clean(e2fsck, image.path());
}

TEST_CASE("debugfs writes a file into the new filesystem, e2fsck -fn stays clean, the file reads back")
{
    REQUIRE_TOOL(e2fsck, "e2fsck");
    REQUIRE_TOOL(debugfs, "debugfs");
    TempImage image(64ull << 20);
    TempImage content(0);
    const std::string text = "cvminit ext4 lazy format\n";
    FILE* fp = fopen(content.path().c_str(), "w");
    REQUIRE(fp != nullptr);
    fputs(text.c_str(), fp);
    fclose(fp);
    format_image(image.path(), fixed_options());
    Run w = test::run_tool(debugfs + " -w -R 'write " + content.path() + " f' " + image.path());
    INFO(w.output);
    REQUIRE(w.status == 0);
    check_fsck_clean(e2fsck, image.path());
    Run cat = test::run_tool(debugfs + " -R 'cat /f' " + image.path() + " 2>/dev/null");
    CHECK(cat.output.find(text) != std::string::npos);
    Run label = test::run_tool(debugfs + " -R 'stats' " + image.path());
    CHECK(label.output.find("Filesystem volume name:   cvm-data") != std::string::npos);
    CHECK(label.output.find("Filesystem UUID:          5e1f0c7a-1122-4344-9566-778899aabbcc") != std::string::npos);
}

TEST_CASE("the same options give the same bytes; without a uuid each run differs")
{
    TempImage a(32ull << 20), b(32ull << 20), c(32ull << 20);
    format_image(a.path(), fixed_options());
    format_image(b.path(), fixed_options());
    Ext4Options random_ids = fixed_options();
    random_ids.uuid.reset();
    random_ids.hash_seed.reset();
    format_image(c.path(), random_ids);
    CHECK(test::run_tool("cmp -s " + a.path() + " " + b.path()).status == 0);
    CHECK(test::run_tool("cmp -s " + a.path() + " " + c.path()).status != 0);
}

TEST_CASE("format_ext4 refuses a too-small device and a too-long label before writing anything")
{
    TempImage image((16ull << 20) - 4096);
    auto file = FileBlockDevice::open(image.path(), FileBlockDevice::Mode::ReadWrite);
    REQUIRE(file.ok());
    CountingDevice dev(file.value());
    auto small = format_ext4(dev, fixed_options());
    REQUIRE_FALSE(small.ok());
    CHECK(small.error().code() == Errc::Config);
    CHECK(std::string(small.error().message()).find("16773120 bytes is too small for ext4: the minimum is 16777216") !=
          std::string::npos);
    Ext4Options long_label = fixed_options();
    long_label.label = "seventeen-bytes-x";
    auto labelled = format_ext4(dev, long_label);
    REQUIRE_FALSE(labelled.ok());
    CHECK(std::string(labelled.error().message()).find("the maximum is 16") != std::string::npos);
    Ext4Options far_future = fixed_options();
    far_future.creation_time = int64_t{1} << 34;
    CHECK_FALSE(format_ext4(dev, far_future).ok());
    CHECK(dev.writes() == 0);
}

TEST_CASE("without a creation time, SOURCE_DATE_EPOCH stamps the filesystem; a malformed one is refused")
{
    TempImage image(16ull << 20);
    Ext4Options opts = fixed_options();
    opts.creation_time.reset();
    REQUIRE(setenv("SOURCE_DATE_EPOCH", "1234567890", 1) == 0);
    format_image(image.path(), opts);
    auto dev = FileBlockDevice::open(image.path(), FileBlockDevice::Mode::ReadOnly);
    REQUIRE(dev.ok());
    Bytes mkfs_time(4);
    REQUIRE(dev->read_at(1024 + 0x108, mkfs_time).ok());  // s_mkfs_time
    CHECK(get_le32(mkfs_time.data()) == 1234567890u);
    REQUIRE(setenv("SOURCE_DATE_EPOCH", "12x", 1) == 0);
    auto bad = format_ext4(dev.value(), opts);
    REQUIRE_FALSE(bad.ok());
    CHECK(std::string(bad.error().message()).find("SOURCE_DATE_EPOCH") != std::string::npos);
    unsetenv("SOURCE_DATE_EPOCH");
}
