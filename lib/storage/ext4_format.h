// format_ext4: a new, empty ext4 filesystem on a device whose unwritten blocks may hold anything.
//
// Only metadata is written (about 0.1% of a large device): superblock and group descriptor copies,
// the block bitmaps of the groups that hold metadata, group 0's inode bitmap, the first block of
// its inode table, the root and lost+found directories, and the journal's superblock. Everything
// else is left as found and marked so that neither the kernel nor e2fsck reads it before writing
// it: groups are BLOCK_UNINIT / INODE_UNINIT with bg_itable_unused covering every unused inode
// (metadata_csum), the inode tables are not flagged ITABLE_ZEROED so the kernel's lazyinit thread
// zeroes them after the first read-write mount, and the journal is empty (s_start 0), as mke2fs
// -E lazy_itable_init=1,lazy_journal_init=1 leaves it.
//
// The filesystem: 4 KiB blocks, 256-byte inodes, features has_journal ext_attr dir_index filetype
// extent 64bit flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum (no
// resize_inode), inode count and journal size as mke2fs picks them, root 0755 and lost+found 0700
// owned by root.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "storage/block_device.h"
#include "storage/ext4_plan.h"

namespace cvm::storage {

struct Ext4Options {
    std::string label;  // s_volume_name, at most 16 bytes
    // Random (libsodium) when absent; set both for reproducible output.
    std::optional<std::array<uint8_t, 16>> uuid;
    std::optional<std::array<uint8_t, 16>> hash_seed;  // directory hash seed
    // Seconds since the epoch for every timestamp; when absent SOURCE_DATE_EPOCH if set, else 0.
    std::optional<int64_t> creation_time;
};

// What was made, for the agent's log line.
struct Ext4Layout {
    uint64_t block_count;  // 4 KiB blocks; a device's last partial group may be left out
    uint32_t group_count;
    uint32_t inode_count;
    uint64_t journal_blocks;
    uint64_t free_blocks;
    uint64_t bytes_written;
};

// Formats `dev` (its whole size() from offset 0) and flushes it; the primary superblock is written
// last, after a flush, so an interrupted run leaves no mountable filesystem. With the same options
// (uuid, hash_seed and time given) the written bytes are identical from run to run.
// Errors: Errc::Config for a label over 16 bytes, a time outside ext4's range (0 .. 2446), or a
// device under EXT4_MIN_DEVICE_SIZE or over EXT4_MAX_DEVICE_SIZE (the message names the size found
// and the limit); Errc::Unavailable when no random source can be had; the device's Errc::Io.
Result<Ext4Layout> format_ext4(BlockDevice& dev, const Ext4Options& opts);

}  // namespace cvm::storage
