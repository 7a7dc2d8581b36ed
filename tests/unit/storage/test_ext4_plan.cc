// ext4 geometry and records without a device: crc32c, the size limits, group layout and flags.
#include <doctest.h>

#include <string>

#include "storage/ext4_crc32c.h"
#include "storage/ext4_plan.h"

using namespace cvm;
using namespace cvm::storage;

namespace {

std::string message_of(const Result<Ext4Plan>& r)
{
    return std::string(r.error().message());
}

bool overlaps(const Ext4Extent& a, const Ext4Extent& b)
{
    return a.start < b.start + b.length && b.start < a.start + a.length;
}

}  // namespace

TEST_CASE("ext4 crc32c is the Castagnoli CRC without the final inversion")
{
    // RFC 3720 B.4 check value of "123456789" is 0xE3069283.
    CHECK(~ext4_crc32c(~0u, as_bytes("123456789")) == 0xE3069283u);
    CHECK(ext4_crc32c(~0u, as_bytes("")) == ~0u);
    // Chaining equals one pass.
    CHECK(ext4_crc32c(ext4_crc32c(7, as_bytes("1234")), as_bytes("56789")) == ext4_crc32c(7, as_bytes("123456789")));
}

TEST_CASE("ext4 plans refuse devices below the minimum and above the maximum, naming both sizes")
{
    auto small = plan_ext4(EXT4_MIN_DEVICE_SIZE - 1);
    REQUIRE_FALSE(small.ok());
    CHECK(small.error().code() == Errc::Config);
    CHECK(message_of(small) == "device of 16777215 bytes is too small for ext4: the minimum is 16777216");
    auto large = plan_ext4(EXT4_MAX_DEVICE_SIZE + 4096);
    REQUIRE_FALSE(large.ok());
    CHECK(message_of(large).find("the maximum is 140737488355328") != std::string::npos);
    CHECK(plan_ext4(EXT4_MIN_DEVICE_SIZE).ok());
}

TEST_CASE("a 16 MiB plan has one group, mke2fs's inode count and a 4 MiB journal")
{
    auto plan = plan_ext4(16 << 20);
    REQUIRE(plan.ok());
    CHECK(plan->block_count == 4096);
    CHECK(plan->group_count == 1);
    CHECK(plan->inode_count() == 4096);  // mke2fs "small": one inode per 4 KiB
    CHECK(plan->journal_blocks == 1024);
    CHECK(plan->journal.size() == 1);
    CHECK(plan->journal_leaf == 0);
    CHECK(plan->groups[0].flags == 0);  // group 0 and the last group are always initialised
    // sb + gdt, 2 bitmaps, 256 inode table blocks, root, lost+found (4), journal (1024).
    CHECK(plan->free_blocks == 4096 - (2 + 2 + 256 + 1 + 4 + 1024));
}

TEST_CASE("a 1 GiB plan packs metadata in group 0 and leaves the other groups to the kernel")
{
    auto plan = plan_ext4(1ull << 30);
    REQUIRE(plan.ok());
    CHECK(plan->group_count == 8);
    CHECK(plan->inodes_per_group == 8192);
    CHECK(plan->journal_blocks == 8192);
    CHECK(plan->journal.front().start == 4 * 32768);  // the middle group, as mke2fs puts it
    for (uint32_t g = 0; g < 8; ++g) {
        CHECK(plan->groups[g].block_bitmap == 1 + 1 + g);  // after the superblock and the 1-block GDT
        CHECK(plan->groups[g].inode_table < 32768);
    }
    CHECK(plan->groups[1].flags == (EXT4_BG_INODE_UNINIT | EXT4_BG_BLOCK_UNINIT));
    CHECK(plan->groups[1].free_blocks == 32768 - 2);       // a superblock and GDT copy
    CHECK(plan->groups[4].flags == EXT4_BG_INODE_UNINIT);  // holds the journal
    CHECK(plan->groups[7].flags == EXT4_BG_INODE_UNINIT);  // the last group
}

TEST_CASE("a last group too short for its own overhead is left off, a longer one kept")
{
    // 3 groups and 100 blocks: group 3 would hold a superblock copy and little else.
    auto dropped = plan_ext4((3ull * 32768 + 100) * 4096 + 123);
    REQUIRE(dropped.ok());
    CHECK(dropped->block_count == 3 * 32768);
    CHECK(dropped->group_count == 3);
    auto kept = plan_ext4((3ull * 32768 + 5000) * 4096 + 123);
    REQUIRE(kept.ok());
    CHECK(kept->block_count == 3 * 32768 + 5000);
    CHECK(kept->group_count == 4);
    CHECK(kept->groups[3].free_blocks == 5000 - 2);
}

TEST_CASE("journal runs: four fit in the inode at 100 GiB, eight need an extent leaf at 200 GiB")
{
    auto plan = plan_ext4(100ull << 30);
    REQUIRE(plan.ok());
    CHECK(plan->group_count == 800);
    CHECK(plan->journal_blocks == 131072);
    CHECK(plan->journal.size() == 4);
    CHECK(plan->journal_leaf == 0);
    // Group 400 leads a flex group: the journal starts after its bitmaps and inode tables.
    CHECK(plan->journal.front().start == plan->groups[415].inode_table + plan->inode_table_blocks);
    auto big = plan_ext4(200ull << 30);
    REQUIRE(big.ok());
    CHECK(big->journal_blocks == 262144);
    CHECK(big->journal.size() == 8);
    CHECK(big->journal_leaf != 0);
    uint64_t total = 0;
    for (const auto& run : big->journal) {
        CHECK(run.length <= EXT4_MAX_EXTENT_LEN);
        CHECK_FALSE(overlaps(run, {big->groups[800].inode_table, 16 * 512}));
        CHECK_FALSE(overlaps(run, {big->journal_leaf, 1}));
        total += run.length;
    }
    CHECK(total == big->journal_blocks);
}

TEST_CASE("16 TiB needs 64-bit block numbers; up to the maximum every table stays inside the device")
{
    auto plan = plan_ext4(16ull << 40);
    REQUIRE(plan.ok());
    CHECK(plan->block_count == 1ull << 32);
    CHECK(plan->group_count == 131072);
    CHECK(plan->gdt_blocks == 2048);
    CHECK(plan->inode_count() == (16ull << 40) / 65536);
    CHECK(plan->groups.back().inode_table + plan->inode_table_blocks <= plan->block_count);
    uint64_t used = 0;
    for (const auto& [start, end] : plan->used.ranges())
        used += end - start;
    CHECK(used + plan->free_blocks == plan->block_count);
}

TEST_CASE("the largest device planned: 2^20 groups, descriptors and tables still fit")
{
    auto plan = plan_ext4(EXT4_MAX_DEVICE_SIZE);
    REQUIRE(plan.ok());
    CHECK(plan->group_count == 1u << 20);
    CHECK(plan->gdt_blocks == 16384);
    CHECK(uint64_t{plan->inode_count()} == EXT4_MAX_DEVICE_SIZE / 65536);
    // Group 0 holds the descriptors and the first flex group's tables.
    CHECK(plan->groups[15].inode_table + plan->inode_table_blocks <= EXT4_BLOCKS_PER_GROUP);
    CHECK(plan->groups.back().inode_table + plan->inode_table_blocks <= plan->block_count);
}
