// The geometry of a new ext4 filesystem: where every metadata block goes, which groups the kernel
// may initialise lazily, and how much space is left. Pure arithmetic, no I/O; ext4_format.cc turns
// a plan into bytes. Layout terms follow the kernel's Documentation/filesystems/ext4 ("Layout",
// "Block Group Descriptors", "Flexible Block Groups").
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "base/result.h"

namespace cvm::storage {

inline constexpr uint32_t EXT4_BLOCK_SIZE = 4096;
inline constexpr uint32_t EXT4_BLOCKS_PER_GROUP = 8 * EXT4_BLOCK_SIZE;  // one bitmap block per group
inline constexpr uint32_t EXT4_INODE_SIZE = 256;
inline constexpr uint32_t EXT4_INODES_PER_BLOCK = EXT4_BLOCK_SIZE / EXT4_INODE_SIZE;
inline constexpr uint32_t EXT4_DESC_SIZE = 64;  // the 64bit feature's descriptor
inline constexpr uint32_t EXT4_LOG_GROUPS_PER_FLEX = 4;
inline constexpr uint32_t EXT4_FIRST_INO = 11;          // inodes 1..10 are reserved, 11 is lost+found
inline constexpr uint32_t EXT4_LOST_FOUND_BLOCKS = 4;   // 16 KiB, as mke2fs makes it
inline constexpr uint32_t EXT4_MAX_EXTENT_LEN = 32768;  // an initialised extent's ee_len
inline constexpr uint64_t EXT4_MIN_DEVICE_SIZE = 16ull << 20;
// Without meta_bg every group descriptor sits in group 0 (and in each backup group); 2^35 blocks
// keep that table at 16384 blocks, next to the first flex group's bitmaps and inode tables.
inline constexpr uint64_t EXT4_MAX_DEVICE_SIZE = 128ull << 40;

// bg_flags
inline constexpr uint16_t EXT4_BG_INODE_UNINIT = 0x1;
inline constexpr uint16_t EXT4_BG_BLOCK_UNINIT = 0x2;

struct Ext4Extent {
    uint64_t start;
    uint64_t length;
};

// Disjoint ranges of allocated blocks, start -> end (exclusive).
class Ext4BlockMap {
public:
    void reserve(uint64_t start, uint64_t length);
    // The first free run at or after `from` and below `limit`, as {start, length}; length 0 when
    // there is none.
    Ext4Extent free_run(uint64_t from, uint64_t limit) const;
    // Reserves and returns the first free run of `length` blocks at or after `goal` and below
    // `limit`; {0, 0} when there is none.
    Ext4Extent allocate(uint64_t goal, uint64_t length, uint64_t limit);
    const std::map<uint64_t, uint64_t>& ranges() const { return m_ranges; }

private:
    std::map<uint64_t, uint64_t> m_ranges;
};

struct Ext4GroupPlan {
    uint64_t block_bitmap;
    uint64_t inode_bitmap;
    uint64_t inode_table;
    uint32_t used_blocks;  // in this group's range, by anyone's metadata or our files
    uint32_t free_blocks;
    uint16_t flags;  // EXT4_BG_*; never ITABLE_ZEROED: the kernel's lazyinit thread zeroes tables
};

struct Ext4Plan {
    uint64_t block_count;  // may be less than the device: a too-short last group is dropped
    uint32_t group_count;
    uint32_t inodes_per_group;
    uint32_t inode_table_blocks;  // per group
    uint32_t gdt_blocks;
    uint64_t free_blocks;
    uint64_t root_block;
    uint64_t lost_found_block;  // first of EXT4_LOST_FOUND_BLOCKS contiguous blocks
    uint64_t journal_blocks;
    std::vector<Ext4Extent> journal;  // physical runs of at most EXT4_MAX_EXTENT_LEN, in order
    uint64_t journal_leaf;            // extent leaf block when journal has over 4 runs, else 0
    std::vector<Ext4GroupPlan> groups;
    Ext4BlockMap used;

    uint64_t group_first_block(uint32_t g) const { return uint64_t{g} * EXT4_BLOCKS_PER_GROUP; }
    uint32_t group_block_count(uint32_t g) const;
    uint32_t inode_count() const { return group_count * inodes_per_group; }
};

// True for the groups that hold a superblock and group descriptor copy under sparse_super:
// 0, 1 and the powers of 3, 5 and 7.
bool ext4_group_has_super(uint32_t group);

// The journal size mke2fs picks for a filesystem of `block_count` 4 KiB blocks (4 MiB .. 1 GiB).
uint64_t ext4_default_journal_blocks(uint64_t block_count);

// Plans a filesystem filling `device_size` bytes. Errc::Config naming the size found and the
// limit when the device is under EXT4_MIN_DEVICE_SIZE or over EXT4_MAX_DEVICE_SIZE.
Result<Ext4Plan> plan_ext4(uint64_t device_size);

// Group `g`'s block bitmap: a bit per block in use, and the bits past the end of a short last
// group set, as the kernel expects. `out` is one block.
void ext4_render_block_bitmap(const Ext4Plan& plan, uint32_t g, std::span<uint8_t> out);

}  // namespace cvm::storage
