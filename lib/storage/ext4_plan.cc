#include "storage/ext4_plan.h"

#include <algorithm>
#include <cinttypes>
#include <iterator>

namespace cvm::storage {
namespace {

constexpr uint64_t MIB = 1ull << 20;
constexpr uint64_t TIB = 1ull << 40;
constexpr uint32_t GROUPS_PER_FLEX = 1u << EXT4_LOG_GROUPS_PER_FLEX;
constexpr uint64_t MAX_INODES = UINT32_MAX;

bool is_power_of(uint32_t n, uint32_t base)
{
    while (n > 1 && n % base == 0)
        n /= base;
    return n == 1;
}

// Bytes of space per inode, from mke2fs.conf's usage types: "small" below 512 MiB, the default,
// "big" from 4 TiB and "huge" from 16 TiB (the block size stays 4096 throughout).
uint64_t inode_ratio(uint64_t bytes)
{
    if (bytes < 512 * MIB)
        return 4096;
    if (bytes < 4 * TIB)
        return 16384;
    if (bytes < 16 * TIB)
        return 32768;
    return 65536;
}

uint64_t div_round_up(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

struct Geometry {
    uint64_t blocks;
    uint32_t groups;
    uint32_t inodes_per_group;
    uint32_t gdt_blocks;
};

// mke2fs's rule (lib/ext2fs/initialize.c): a last group too short to hold its own metadata and 50
// blocks of data is not worth its overhead and is left off the filesystem.
Geometry choose_geometry(uint64_t device_blocks, uint64_t ratio)
{
    Geometry g{};
    g.blocks = device_blocks;
    for (;;) {
        g.groups = static_cast<uint32_t>(div_round_up(g.blocks, EXT4_BLOCKS_PER_GROUP));
        uint64_t ipg = div_round_up(g.blocks * EXT4_BLOCK_SIZE / ratio, g.groups);
        ipg = std::clamp<uint64_t>(div_round_up(ipg, EXT4_INODES_PER_BLOCK) * EXT4_INODES_PER_BLOCK,
                                   EXT4_INODES_PER_BLOCK, 8 * EXT4_BLOCK_SIZE);
        if (ipg * g.groups > MAX_INODES)
            ipg = MAX_INODES / g.groups / EXT4_INODES_PER_BLOCK * EXT4_INODES_PER_BLOCK;
        g.inodes_per_group = static_cast<uint32_t>(ipg);
        g.gdt_blocks = static_cast<uint32_t>(div_round_up(uint64_t{g.groups} * EXT4_DESC_SIZE, EXT4_BLOCK_SIZE));
        uint64_t last = g.blocks - uint64_t{g.groups - 1} * EXT4_BLOCKS_PER_GROUP;
        uint64_t overhead =
            2 + ipg / EXT4_INODES_PER_BLOCK + (ext4_group_has_super(g.groups - 1) ? 1 + g.gdt_blocks : 0);
        if (g.groups == 1 || last == EXT4_BLOCKS_PER_GROUP || last >= overhead + 50)
            return g;
        g.blocks -= last;
    }
}

}  // namespace

void Ext4BlockMap::reserve(uint64_t start, uint64_t length)
{
    m_ranges.emplace(start, start + length);
}

Ext4Extent Ext4BlockMap::free_run(uint64_t from, uint64_t limit) const
{
    uint64_t p = from;
    auto next = m_ranges.upper_bound(p);
    if (next != m_ranges.begin()) {
        auto prev = std::prev(next);
        if (prev->second > p)
            p = prev->second;
    }
    // Ranges may touch end to start; skip every range that begins where the free space would.
    while (next != m_ranges.end() && next->first <= p) {
        p = std::max(p, next->second);
        ++next;
    }
    if (p >= limit)
        return {0, 0};
    uint64_t end = next == m_ranges.end() ? limit : std::min(next->first, limit);
    return {p, end - p};
}

Ext4Extent Ext4BlockMap::allocate(uint64_t goal, uint64_t length, uint64_t limit)
{
    for (uint64_t p = goal;;) {
        Ext4Extent run = free_run(p, limit);
        if (run.length == 0)
            return {0, 0};
        if (run.length >= length) {
            reserve(run.start, length);
            return {run.start, length};
        }
        p = run.start + run.length;
    }
}

bool ext4_group_has_super(uint32_t group)
{
    return group <= 1 || is_power_of(group, 3) || is_power_of(group, 5) || is_power_of(group, 7);
}

uint64_t ext4_default_journal_blocks(uint64_t block_count)
{
    // mke2fs's table (lib/ext2fs/mkjournal.c, ext2fs_default_journal_size) in 4 KiB blocks.
    if (block_count < 32768)
        return 1024;
    if (block_count < 256 * 1024)
        return 4096;
    if (block_count < 512 * 1024)
        return 8192;
    if (block_count < 4096 * 1024)
        return 16384;
    if (block_count < 8192 * 1024)
        return 32768;
    if (block_count < 16384 * 1024)
        return 65536;
    if (block_count < 32768 * 1024)
        return 131072;
    return 262144;
}

uint32_t Ext4Plan::group_block_count(uint32_t g) const
{
    return static_cast<uint32_t>(std::min<uint64_t>(EXT4_BLOCKS_PER_GROUP, block_count - group_first_block(g)));
}

namespace {

Error no_room(const char* what, uint64_t blocks)
{
    return Error::make(Errc::Config, "no room for the %s in a filesystem of %" PRIu64 " blocks", what, blocks);
}

// Flex groups of 16: the block bitmaps of all 16 groups, then their inode bitmaps, then their
// inode tables, packed from the start of the flex group's first group (after its superblock copy).
Result<void> place_group_tables(Ext4Plan& plan)
{
    for (uint32_t leader = 0; leader < plan.group_count; leader += GROUPS_PER_FLEX) {
        uint32_t n = std::min(GROUPS_PER_FLEX, plan.group_count - leader);
        uint64_t goal = plan.group_first_block(leader);
        Ext4Extent bb = plan.used.allocate(goal, n, plan.block_count);
        Ext4Extent ib = plan.used.allocate(bb.start + n, n, plan.block_count);
        if (bb.length == 0 || ib.length == 0)
            return no_room("bitmaps", plan.block_count);
        goal = ib.start + n;
        for (uint32_t i = 0; i < n; ++i) {
            Ext4Extent it = plan.used.allocate(goal, plan.inode_table_blocks, plan.block_count);
            if (it.length == 0)
                return no_room("inode tables", plan.block_count);
            Ext4GroupPlan& g = plan.groups[leader + i];
            g.block_bitmap = bb.start + i;
            g.inode_bitmap = ib.start + i;
            g.inode_table = it.start;
            goal = it.start + it.length;
        }
    }
    return {};
}

// The journal starts in the middle group, as mke2fs puts it, in runs that step around the
// metadata there; more than four runs need an extent leaf block (the inode holds four extents).
Result<void> place_journal(Ext4Plan& plan)
{
    plan.journal_blocks = ext4_default_journal_blocks(plan.block_count);
    uint64_t cursor = plan.group_first_block(plan.group_count / 2);
    uint64_t remaining = plan.journal_blocks;
    bool wrapped = false;
    while (remaining > 0) {
        Ext4Extent run = plan.used.free_run(cursor, plan.block_count);
        if (run.length == 0) {
            if (wrapped)
                return no_room("journal", plan.block_count);
            wrapped = true;
            cursor = 0;
            continue;
        }
        uint64_t take = std::min({run.length, remaining, uint64_t{EXT4_MAX_EXTENT_LEN}});
        plan.used.reserve(run.start, take);
        plan.journal.push_back({run.start, take});
        remaining -= take;
        cursor = run.start + take;
    }
    if (plan.journal.size() > 4) {
        Ext4Extent leaf = plan.used.allocate(cursor, 1, plan.block_count);
        if (leaf.length == 0)
            leaf = plan.used.allocate(0, 1, plan.block_count);
        if (leaf.length == 0)
            return no_room("journal's extent block", plan.block_count);
        plan.journal_leaf = leaf.start;
    }
    return {};
}

// Counts each group's used blocks and decides which groups the kernel may set up itself.
// BLOCK_UNINIT tells it to compute the bitmap as "superblock copy and group descriptors if the
// group has them, plus the group's own bitmaps and inode table where they lie inside it"
// (ext4_init_block_bitmap), so it is set only where that is exactly the truth, and never on the
// last group, as mke2fs does. INODE_UNINIT holds for every group but 0, which has inodes 1..11.
void account_groups(Ext4Plan& plan)
{
    for (const auto& [start, end] : plan.used.ranges()) {
        for (uint64_t s = start; s < end;) {
            auto g = static_cast<uint32_t>(s / EXT4_BLOCKS_PER_GROUP);
            uint64_t stop = std::min(end, plan.group_first_block(g) + EXT4_BLOCKS_PER_GROUP);
            plan.groups[g].used_blocks += static_cast<uint32_t>(stop - s);
            s = stop;
        }
    }
    plan.free_blocks = 0;
    for (uint32_t g = 0; g < plan.group_count; ++g) {
        Ext4GroupPlan& gp = plan.groups[g];
        uint64_t first = plan.group_first_block(g);
        uint64_t end = first + plan.group_block_count(g);
        auto inside = [&](uint64_t b, uint64_t n) { return b >= first && b + n <= end ? n : 0; };
        uint64_t implied = (ext4_group_has_super(g) ? 1 + plan.gdt_blocks : 0) + inside(gp.block_bitmap, 1) +
                           inside(gp.inode_bitmap, 1) + inside(gp.inode_table, plan.inode_table_blocks);
        gp.flags = g == 0 ? 0 : EXT4_BG_INODE_UNINIT;
        if (g + 1 < plan.group_count && gp.used_blocks == implied)
            gp.flags |= EXT4_BG_BLOCK_UNINIT;
        gp.free_blocks = plan.group_block_count(g) - gp.used_blocks;
        plan.free_blocks += gp.free_blocks;
    }
}

}  // namespace

Result<Ext4Plan> plan_ext4(uint64_t device_size)
{
    if (device_size < EXT4_MIN_DEVICE_SIZE)
        return Error::make(Errc::Config, "device of %" PRIu64 " bytes is too small for ext4: the minimum is %" PRIu64,
                           device_size, EXT4_MIN_DEVICE_SIZE);
    if (device_size > EXT4_MAX_DEVICE_SIZE)
        return Error::make(Errc::Config, "device of %" PRIu64 " bytes is too large for ext4: the maximum is %" PRIu64,
                           device_size, EXT4_MAX_DEVICE_SIZE);
    Geometry geo = choose_geometry(device_size / EXT4_BLOCK_SIZE, inode_ratio(device_size));
    Ext4Plan plan{};
    plan.block_count = geo.blocks;
    plan.group_count = geo.groups;
    plan.inodes_per_group = geo.inodes_per_group;
    plan.inode_table_blocks = geo.inodes_per_group / EXT4_INODES_PER_BLOCK;
    plan.gdt_blocks = geo.gdt_blocks;
    plan.groups.resize(plan.group_count);
    for (uint32_t g = 0; g < plan.group_count; ++g) {
        if (ext4_group_has_super(g))
            plan.used.reserve(plan.group_first_block(g), 1 + plan.gdt_blocks);
    }
    TRY(place_group_tables(plan));
    Ext4Extent root = plan.used.allocate(0, 1, plan.block_count);
    Ext4Extent lost_found = plan.used.allocate(root.start + 1, EXT4_LOST_FOUND_BLOCKS, plan.block_count);
    if (root.length == 0 || lost_found.length == 0)
        return no_room("root directory", plan.block_count);
    plan.root_block = root.start;
    plan.lost_found_block = lost_found.start;
    TRY(place_journal(plan));
    account_groups(plan);
    return plan;
}

void ext4_render_block_bitmap(const Ext4Plan& plan, uint32_t g, std::span<uint8_t> out)
{
    std::fill(out.begin(), out.end(), 0);
    uint64_t first = plan.group_first_block(g);
    uint64_t end = first + plan.group_block_count(g);
    auto set = [&](uint64_t from, uint64_t to) {
        for (uint64_t b = from; b < to; ++b)
            out[b / 8] |= static_cast<uint8_t>(1u << (b % 8));
    };
    const auto& ranges = plan.used.ranges();
    auto it = ranges.upper_bound(first);
    if (it != ranges.begin())
        --it;
    for (; it != ranges.end() && it->first < end; ++it) {
        if (it->second > first)
            set(std::max(it->first, first) - first, std::min(it->second, end) - first);
    }
    set(end - first, EXT4_BLOCKS_PER_GROUP);
}

}  // namespace cvm::storage
