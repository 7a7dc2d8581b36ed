// Encoders for the ext4 and jbd2 on-disk records a new filesystem needs: superblock, group
// descriptors, inodes, directory blocks, extent trees and the journal superblock. Internal to the
// formatter. Offsets are the field offsets of the kernel's Documentation/filesystems/ext4
// (super.rst, group_descr.rst, inodes.rst, directory.rst, ifork.rst, journal.rst); ext4 is
// little-endian, jbd2 big-endian. Every record with a metadata_csum checksum gets it here.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "storage/ext4_plan.h"

namespace cvm::storage {

inline constexpr uint32_t EXT4_SUPERBLOCK_OFFSET = 1024;
inline constexpr uint32_t EXT4_SUPERBLOCK_SIZE = 1024;
inline constexpr uint32_t EXT4_ROOT_INO = 2;
inline constexpr uint32_t EXT4_JOURNAL_INO = 8;

// What makes one filesystem unlike another of the same size.
struct Ext4Identity {
    std::array<uint8_t, 16> uuid;
    std::array<uint8_t, 16> hash_seed;  // s_hash_seed for htree directories
    std::string label;                  // at most 16 bytes, checked by the caller
    int64_t time;                       // seconds since the epoch, for every timestamp
    uint32_t csum_seed;                 // crc32c(~0, uuid): the seed of every metadata checksum
};

// Checksums the formatter computes over bitmaps, for the group descriptors.
struct Ext4BitmapChecksums {
    std::vector<uint32_t> block;  // per group; 0 where BLOCK_UNINIT
    uint32_t inode_group0;        // the only inode bitmap written
};

// The 1024-byte superblock as stored in group `group` (0 for the primary; a backup records its
// group in s_block_group_nr).
Bytes ext4_encode_superblock(const Ext4Plan& plan, const Ext4Identity& id, uint32_t group);

// The group descriptor table, padded to plan.gdt_blocks blocks.
Bytes ext4_encode_group_descriptors(const Ext4Plan& plan, const Ext4Identity& id, const Ext4BitmapChecksums& sums);

// The bitmaps' checksums as the descriptors store them (bg_*_bitmap_csum).
uint32_t ext4_block_bitmap_checksum(const Ext4Identity& id, ByteView bitmap);
uint32_t ext4_inode_bitmap_checksum(const Ext4Identity& id, const Ext4Plan& plan, ByteView bitmap);

// Group 0's inode bitmap: inodes 1..EXT4_FIRST_INO in use, the bits past inodes_per_group set.
void ext4_render_inode_bitmap(const Ext4Plan& plan, std::span<uint8_t> out);

// The first block of group 0's inode table: inodes 1..16 (the reserved ones, root, journal and
// lost+found). `journal_root` is the journal inode's i_block (ext4_encode_journal_root).
void ext4_render_first_inode_block(const Ext4Plan& plan, const Ext4Identity& id, ByteView journal_root,
                                   std::span<uint8_t> out);

// The journal's i_block (60 bytes): its runs, or with more than four an index to journal_leaf.
Bytes ext4_encode_journal_root(const Ext4Plan& plan);
// The extent leaf block listing every run, for plan.journal_leaf.
void ext4_render_journal_leaf(const Ext4Plan& plan, const Ext4Identity& id, std::span<uint8_t> out);

// The root directory's block ("." "..", "lost+found"), then lost+found's blocks (".", "..", then
// empty ones), each with its checksum tail.
void ext4_render_root_dir_block(const Ext4Identity& id, std::span<uint8_t> out);
void ext4_render_lost_found_block(const Ext4Identity& id, uint32_t index, std::span<uint8_t> out);

// The jbd2 superblock (version 2, empty: s_start 0, so nothing is ever replayed from the
// unwritten journal blocks), padded to one block.
void ext4_render_journal_superblock(const Ext4Plan& plan, const Ext4Identity& id, std::span<uint8_t> out);

}  // namespace cvm::storage
