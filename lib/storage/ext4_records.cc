#include "storage/ext4_records.h"

#include <algorithm>
#include <cstring>

#include "storage/ext4_crc32c.h"

namespace cvm::storage {
namespace {

// Feature flags (super.rst, s_feature_*). Chosen so the kernel and e2fsck tolerate unwritten
// blocks: metadata_csum enables the uninit_bg semantics (BLOCK_UNINIT, INODE_UNINIT,
// bg_itable_unused) and checksums the records we write; flex_bg packs bitmaps and inode tables so
// that few groups need an initialised bitmap; 64bit is what mke2fs uses by default and is needed
// past 16 TiB. resize_inode is left out so no reserved GDT blocks need to be zeroed.
constexpr uint32_t COMPAT_HAS_JOURNAL = 0x4, COMPAT_EXT_ATTR = 0x8, COMPAT_DIR_INDEX = 0x20;
constexpr uint32_t INCOMPAT_FILETYPE = 0x2, INCOMPAT_EXTENTS = 0x40, INCOMPAT_64BIT = 0x80, INCOMPAT_FLEX_BG = 0x200;
constexpr uint32_t RO_COMPAT_SPARSE_SUPER = 0x1, RO_COMPAT_LARGE_FILE = 0x2, RO_COMPAT_HUGE_FILE = 0x8,
                   RO_COMPAT_DIR_NLINK = 0x20, RO_COMPAT_EXTRA_ISIZE = 0x40, RO_COMPAT_METADATA_CSUM = 0x400;
constexpr uint16_t EXT4_SUPER_MAGIC = 0xEF53;
constexpr uint16_t EXT4_EXTENT_MAGIC = 0xF30A;
constexpr uint32_t EXT4_EXTENTS_FL = 0x80000;
constexpr uint16_t EXTRA_ISIZE = 32;  // i_extra_isize: through i_projid
constexpr uint32_t DIR_TAIL_SIZE = 12;
constexpr uint32_t EXTENT_LEAF_MAX = (EXT4_BLOCK_SIZE - 12) / 12;  // 340 entries, then the 4-byte tail
constexpr uint32_t JBD2_MAGIC = 0xC03B3998, JBD2_SUPERBLOCK_V2 = 4;
constexpr uint16_t S_IFDIR = 0x4000, S_IFREG = 0x8000;
constexpr uint8_t FT_DIR = 2;

void le16(uint8_t* p, uint64_t v)
{
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
}
void le32(uint8_t* p, uint64_t v)
{
    put_le32(p, static_cast<uint32_t>(v));
}
void be32(uint8_t* p, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

uint32_t crc_u32(uint32_t crc, uint32_t v)
{
    uint8_t b[4];
    le32(b, v);
    return ext4_crc32c(crc, b);
}

// Inodes and the blocks they own are checksummed from crc32c(seed, inode number, generation);
// every generation here is 0.
uint32_t inode_seed(const Ext4Identity& id, uint32_t ino)
{
    return crc_u32(crc_u32(id.csum_seed, ino), 0);
}

// i_*time plus i_*time_extra: the extra field's low two bits extend the signed 32-bit seconds.
void put_time(uint8_t* inode, size_t seconds_at, size_t extra_at, int64_t t)
{
    auto lo = static_cast<uint32_t>(t);
    le32(inode + seconds_at, lo);
    le32(inode + extra_at, static_cast<uint64_t>((t - static_cast<int32_t>(lo)) >> 32) & 3);
}

struct InodeFields {
    uint16_t mode;
    uint16_t links;
    uint64_t size;
    uint64_t blocks;  // data and extent blocks owned
    ByteView i_block;
};

// inodes.rst: a 256-byte inode with i_extra_isize 32. An all-zero reserved inode still gets
// i_checksum_lo, as mke2fs writes them.
void put_inode(std::span<uint8_t> out, uint32_t ino, const InodeFields* f, const Ext4Identity& id)
{
    uint8_t* p = out.data();
    std::fill(out.begin(), out.begin() + EXT4_INODE_SIZE, 0);
    if (f) {
        le16(p + 0x00, f->mode);
        le32(p + 0x04, f->size);
        le16(p + 0x1A, f->links);
        le32(p + 0x1C, f->blocks * (EXT4_BLOCK_SIZE / 512));
        le32(p + 0x20, EXT4_EXTENTS_FL);
        std::copy(f->i_block.begin(), f->i_block.end(), p + 0x28);
        le32(p + 0x6C, f->size >> 32);
        le16(p + 0x74, (f->blocks * (EXT4_BLOCK_SIZE / 512)) >> 32);
        le16(p + 0x80, EXTRA_ISIZE);
        put_time(p, 0x08, 0x8C, id.time);  // atime
        put_time(p, 0x0C, 0x84, id.time);  // ctime
        put_time(p, 0x10, 0x88, id.time);  // mtime
        put_time(p, 0x90, 0x94, id.time);  // crtime
    }
    uint32_t crc = ext4_crc32c(inode_seed(id, ino), out.first(EXT4_INODE_SIZE));
    le16(p + 0x7C, crc & 0xFFFF);
    if (f)  // i_checksum_hi exists when i_extra_isize covers it
        le16(p + 0x82, crc >> 16);
}

// ifork.rst: the extent header (magic, entries, max 4 in an inode, depth) at the start of i_block.
Bytes extent_root(uint16_t depth, size_t entries)
{
    Bytes root(60, 0);
    le16(&root[0], EXT4_EXTENT_MAGIC);
    le16(&root[2], entries);
    le16(&root[4], 4);
    le16(&root[6], depth);
    return root;
}

// ext4_extent: ee_block, ee_len, ee_start_hi, ee_start_lo.
void put_extent(uint8_t* p, uint64_t logical, const Ext4Extent& e)
{
    le32(p, logical);
    le16(p + 4, e.length);
    le16(p + 6, e.start >> 32);
    le32(p + 8, e.start);
}

void put_dirent(uint8_t* p, uint32_t ino, uint32_t rec_len, std::string_view name, uint8_t type)
{
    le32(p, ino);
    le16(p + 4, rec_len);
    p[6] = static_cast<uint8_t>(name.size());
    p[7] = type;
    memcpy(p + 8, name.data(), name.size());
}

// directory.rst "Checksums": a fake entry with inode 0, rec_len 12, name_len 0 and file type
// 0xDE, holding crc32c over the block up to it.
void put_dir_tail(const Ext4Identity& id, uint32_t dir_ino, std::span<uint8_t> block)
{
    uint8_t* tail = block.data() + EXT4_BLOCK_SIZE - DIR_TAIL_SIZE;
    le16(tail + 4, DIR_TAIL_SIZE);
    tail[7] = 0xDE;
    le32(tail + 8, ext4_crc32c(inode_seed(id, dir_ino), block.first(EXT4_BLOCK_SIZE - DIR_TAIL_SIZE)));
}

}  // namespace

Bytes ext4_encode_superblock(const Ext4Plan& plan, const Ext4Identity& id, uint32_t group)
{
    Bytes sb(EXT4_SUPERBLOCK_SIZE, 0);
    uint8_t* p = sb.data();
    uint64_t reserved = plan.block_count * 5 / 100;  // mke2fs's default for root
    le32(p + 0x00, plan.inode_count());
    le32(p + 0x04, plan.block_count);
    le32(p + 0x08, reserved);
    le32(p + 0x0C, plan.free_blocks);
    le32(p + 0x10, plan.inode_count() - EXT4_FIRST_INO);
    le32(p + 0x14, 0);  // s_first_data_block: 0 with 4 KiB blocks
    le32(p + 0x18, 2);  // s_log_block_size: 1024 << 2
    le32(p + 0x1C, 2);  // s_log_cluster_size
    le32(p + 0x20, EXT4_BLOCKS_PER_GROUP);
    le32(p + 0x24, EXT4_BLOCKS_PER_GROUP);
    le32(p + 0x28, plan.inodes_per_group);
    le32(p + 0x30, id.time);  // s_wtime
    le16(p + 0x36, 0xFFFF);   // s_max_mnt_count: -1, no forced checks
    le16(p + 0x38, EXT4_SUPER_MAGIC);
    le16(p + 0x3A, 1);        // s_state: cleanly unmounted
    le16(p + 0x3C, 1);        // s_errors: continue (mke2fs's default)
    le32(p + 0x40, id.time);  // s_lastcheck
    le32(p + 0x4C, 1);        // s_rev_level: dynamic
    le32(p + 0x54, EXT4_FIRST_INO);
    le16(p + 0x58, EXT4_INODE_SIZE);
    le16(p + 0x5A, group);
    le32(p + 0x5C, COMPAT_HAS_JOURNAL | COMPAT_EXT_ATTR | COMPAT_DIR_INDEX);
    le32(p + 0x60, INCOMPAT_FILETYPE | INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG);
    le32(p + 0x64, RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_HUGE_FILE | RO_COMPAT_DIR_NLINK |
                       RO_COMPAT_EXTRA_ISIZE | RO_COMPAT_METADATA_CSUM);
    std::copy(id.uuid.begin(), id.uuid.end(), p + 0x68);
    std::copy(id.label.begin(), id.label.end(), p + 0x78);
    le32(p + 0xE0, EXT4_JOURNAL_INO);
    std::copy(id.hash_seed.begin(), id.hash_seed.end(), p + 0xEC);
    p[0xFC] = 1;  // s_def_hash_version: half_md4
    p[0xFD] = 1;  // s_jnl_backup_type: s_jnl_blocks holds a copy of the journal's i_block
    le16(p + 0xFE, EXT4_DESC_SIZE);
    le32(p + 0x100, 0x4 | 0x8);  // s_default_mount_opts: user_xattr, acl
    le32(p + 0x108, id.time);    // s_mkfs_time
    Bytes journal_root = ext4_encode_journal_root(plan);
    std::copy(journal_root.begin(), journal_root.end(), p + 0x10C);
    le32(p + 0x10C + 15 * 4, (plan.journal_blocks * EXT4_BLOCK_SIZE) >> 32);
    le32(p + 0x10C + 16 * 4, plan.journal_blocks * EXT4_BLOCK_SIZE);
    le32(p + 0x150, plan.block_count >> 32);
    le32(p + 0x154, reserved >> 32);
    le32(p + 0x158, plan.free_blocks >> 32);
    le16(p + 0x15C, EXTRA_ISIZE);  // s_min_extra_isize
    le16(p + 0x15E, EXTRA_ISIZE);  // s_want_extra_isize
    le32(p + 0x160, 0x1);          // s_flags: signed directory hash, fixed so the output is too
    p[0x174] = EXT4_LOG_GROUPS_PER_FLEX;
    p[0x175] = 1;                            // s_checksum_type: crc32c
    for (size_t at : {0x274, 0x276, 0x277})  // s_wtime_hi, s_mkfs_time_hi, s_lastcheck_hi
        p[at] = static_cast<uint8_t>(static_cast<uint64_t>(id.time) >> 32);
    le32(p + 0x3FC, ext4_crc32c(~0u, ByteView(sb).first(0x3FC)));
    return sb;
}

Bytes ext4_encode_group_descriptors(const Ext4Plan& plan, const Ext4Identity& id, const Ext4BitmapChecksums& sums)
{
    Bytes table(uint64_t{plan.gdt_blocks} * EXT4_BLOCK_SIZE, 0);
    for (uint32_t g = 0; g < plan.group_count; ++g) {
        const Ext4GroupPlan& gp = plan.groups[g];
        uint8_t* d = table.data() + uint64_t{g} * EXT4_DESC_SIZE;
        uint32_t free_inodes = plan.inodes_per_group - (g == 0 ? EXT4_FIRST_INO : 0);
        uint32_t inode_csum = g == 0 ? sums.inode_group0 : 0;
        le32(d + 0x00, gp.block_bitmap);
        le32(d + 0x04, gp.inode_bitmap);
        le32(d + 0x08, gp.inode_table);
        le16(d + 0x0C, gp.free_blocks);
        le16(d + 0x0E, free_inodes);
        le16(d + 0x10, g == 0 ? 2 : 0);  // bg_used_dirs_count: root and lost+found
        le16(d + 0x12, gp.flags);
        le16(d + 0x18, sums.block[g]);
        le16(d + 0x1A, inode_csum);
        le16(d + 0x1C, free_inodes);  // bg_itable_unused: the kernel reads no inode past the used ones
        le32(d + 0x20, gp.block_bitmap >> 32);
        le32(d + 0x24, gp.inode_bitmap >> 32);
        le32(d + 0x28, gp.inode_table >> 32);
        le16(d + 0x2C, gp.free_blocks >> 16);
        le16(d + 0x2E, free_inodes >> 16);
        le16(d + 0x32, free_inodes >> 16);
        le16(d + 0x38, sums.block[g] >> 16);
        le16(d + 0x3A, inode_csum >> 16);
        // bg_checksum: crc32c(seed, group number, descriptor with bg_checksum zero), low 16 bits.
        uint32_t crc = ext4_crc32c(crc_u32(id.csum_seed, g), ByteView(d, EXT4_DESC_SIZE));
        le16(d + 0x1E, crc & 0xFFFF);
    }
    return table;
}

uint32_t ext4_block_bitmap_checksum(const Ext4Identity& id, ByteView bitmap)
{
    return ext4_crc32c(id.csum_seed, bitmap.first(EXT4_BLOCKS_PER_GROUP / 8));
}

uint32_t ext4_inode_bitmap_checksum(const Ext4Identity& id, const Ext4Plan& plan, ByteView bitmap)
{
    return ext4_crc32c(id.csum_seed, bitmap.first(plan.inodes_per_group / 8));
}

void ext4_render_inode_bitmap(const Ext4Plan& plan, std::span<uint8_t> out)
{
    std::fill(out.begin(), out.end(), 0);
    for (uint32_t i = 0; i < 8 * EXT4_BLOCK_SIZE; ++i) {
        if (i < EXT4_FIRST_INO || i >= plan.inodes_per_group)
            out[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    }
}

Bytes ext4_encode_journal_root(const Ext4Plan& plan)
{
    std::span<const Ext4Extent> runs = plan.journal;
    if (plan.journal_leaf != 0) {
        // One index entry (ei_block 0, ei_leaf_lo, ei_leaf_hi) pointing at a leaf of all the runs.
        Bytes root = extent_root(1, 1);
        le32(&root[16], plan.journal_leaf);
        le16(&root[20], plan.journal_leaf >> 32);
        return root;
    }
    Bytes root = extent_root(0, runs.size());
    uint64_t logical = 0;
    for (size_t i = 0; i < runs.size(); ++i) {
        put_extent(&root[12 + 12 * i], logical, runs[i]);
        logical += runs[i].length;
    }
    return root;
}

void ext4_render_journal_leaf(const Ext4Plan& plan, const Ext4Identity& id, std::span<uint8_t> out)
{
    std::span<const Ext4Extent> runs = plan.journal;
    std::fill(out.begin(), out.end(), 0);
    le16(&out[0], EXT4_EXTENT_MAGIC);
    le16(&out[2], runs.size());
    le16(&out[4], EXTENT_LEAF_MAX);
    uint64_t logical = 0;
    for (size_t i = 0; i < runs.size(); ++i) {
        put_extent(&out[12 + 12 * i], logical, runs[i]);
        logical += runs[i].length;
    }
    // ifork.rst: the leaf's ext4_extent_tail follows eh_max entries.
    size_t tail = 12 + 12 * EXTENT_LEAF_MAX;
    le32(&out[tail], ext4_crc32c(inode_seed(id, EXT4_JOURNAL_INO), out.first(tail)));
}

void ext4_render_first_inode_block(const Ext4Plan& plan, const Ext4Identity& id, ByteView journal_root,
                                   std::span<uint8_t> out)
{
    std::fill(out.begin(), out.end(), 0);
    Bytes root_extents = extent_root(0, 1);
    put_extent(&root_extents[12], 0, {plan.root_block, 1});
    Bytes lost_found_extents = extent_root(0, 1);
    put_extent(&lost_found_extents[12], 0, {plan.lost_found_block, EXT4_LOST_FOUND_BLOCKS});
    uint64_t journal_owned = plan.journal_blocks + (plan.journal_leaf ? 1 : 0);
    // Root links: ".", its own "..", and lost+found's "..". lost+found: "." and the root's entry.
    const InodeFields root{S_IFDIR | 0755, 3, EXT4_BLOCK_SIZE, 1, root_extents};
    const InodeFields lost_found{S_IFDIR | 0700, 2, EXT4_LOST_FOUND_BLOCKS * EXT4_BLOCK_SIZE, EXT4_LOST_FOUND_BLOCKS,
                                 lost_found_extents};
    const InodeFields journal{S_IFREG | 0600, 1, plan.journal_blocks * EXT4_BLOCK_SIZE, journal_owned, journal_root};
    for (uint32_t ino = 1; ino <= EXT4_FIRST_INO; ++ino) {
        const InodeFields* f = ino == EXT4_ROOT_INO      ? &root
                               : ino == EXT4_JOURNAL_INO ? &journal
                               : ino == EXT4_FIRST_INO   ? &lost_found
                                                         : nullptr;
        put_inode(out.subspan((ino - 1) * EXT4_INODE_SIZE, EXT4_INODE_SIZE), ino, f, id);
    }
}

void ext4_render_root_dir_block(const Ext4Identity& id, std::span<uint8_t> out)
{
    std::fill(out.begin(), out.end(), 0);
    put_dirent(&out[0], EXT4_ROOT_INO, 12, ".", FT_DIR);
    put_dirent(&out[12], EXT4_ROOT_INO, 12, "..", FT_DIR);
    put_dirent(&out[24], EXT4_FIRST_INO, EXT4_BLOCK_SIZE - DIR_TAIL_SIZE - 24, "lost+found", FT_DIR);
    put_dir_tail(id, EXT4_ROOT_INO, out);
}

void ext4_render_lost_found_block(const Ext4Identity& id, uint32_t index, std::span<uint8_t> out)
{
    std::fill(out.begin(), out.end(), 0);
    if (index == 0) {
        put_dirent(&out[0], EXT4_FIRST_INO, 12, ".", FT_DIR);
        put_dirent(&out[12], EXT4_ROOT_INO, EXT4_BLOCK_SIZE - DIR_TAIL_SIZE - 12, "..", FT_DIR);
    } else {
        put_dirent(&out[0], 0, EXT4_BLOCK_SIZE - DIR_TAIL_SIZE, "", 0);
    }
    put_dir_tail(id, EXT4_FIRST_INO, out);
}

void ext4_render_journal_superblock(const Ext4Plan& plan, const Ext4Identity& id, std::span<uint8_t> out)
{
    std::fill(out.begin(), out.end(), 0);
    uint8_t* p = out.data();
    be32(p + 0x00, JBD2_MAGIC);
    be32(p + 0x04, JBD2_SUPERBLOCK_V2);
    be32(p + 0x0C, EXT4_BLOCK_SIZE);
    be32(p + 0x10, static_cast<uint32_t>(plan.journal_blocks));  // s_maxlen
    be32(p + 0x14, 1);                                           // s_first: after this block
    be32(p + 0x18, 1);                                           // s_sequence
    be32(p + 0x1C, 0);                                           // s_start: empty, nothing to replay
    std::copy(id.uuid.begin(), id.uuid.end(), p + 0x30);
    be32(p + 0x40, 1);  // s_nr_users, as mke2fs writes it for an internal journal
}

}  // namespace cvm::storage
