#include "storage/ext4_format.h"

#include <sodium.h>

#include <cerrno>
#include <cinttypes>
#include <cstdlib>

#include "storage/ext4_crc32c.h"
#include "storage/ext4_records.h"

namespace cvm::storage {
namespace {

// The last second an inode's 32-bit seconds plus two epoch bits can hold (2446-05-10).
constexpr int64_t EXT4_MAX_TIME = (int64_t{1} << 34) - (int64_t{1} << 31) - 1;

Result<int64_t> creation_time(const Ext4Options& opts)
{
    int64_t t = 0;
    if (opts.creation_time) {
        t = *opts.creation_time;
    } else if (const char* env = getenv("SOURCE_DATE_EPOCH"); env && *env) {
        // reproducible-builds.org: "If the value is malformed, the build process SHOULD exit with
        // a non-zero error code."
        char* end = nullptr;
        errno = 0;
        long long v = strtoll(env, &end, 10);
        if (errno != 0 || *end != '\0')
            return Error::make(Errc::Config, "SOURCE_DATE_EPOCH is not a number of seconds: '%.40s'", env);
        t = v;
    }
    if (t < 0 || t > EXT4_MAX_TIME)
        return Error::make(Errc::Config, "ext4 creation time %" PRId64 " is outside 0..%" PRId64, t, EXT4_MAX_TIME);
    return t;
}

Result<Ext4Identity> make_identity(const Ext4Options& opts)
{
    if (opts.label.size() > 16)
        return Error::make(Errc::Config, "ext4 label '%.40s' is %zu bytes; the maximum is 16", opts.label.c_str(),
                           opts.label.size());
    Ext4Identity id{};
    id.label = opts.label;
    id.time = TRY(creation_time(opts));
    if (!opts.uuid || !opts.hash_seed) {
        // sodium_init() seeds the random source; idempotent and thread-safe.
        if (sodium_init() < 0)
            return Error::make(Errc::Unavailable, "no random source for the ext4 UUID (sodium_init failed)");
    }
    if (opts.uuid) {
        id.uuid = *opts.uuid;
    } else {
        randombytes_buf(id.uuid.data(), id.uuid.size());
        id.uuid[6] = static_cast<uint8_t>((id.uuid[6] & 0x0F) | 0x40);  // RFC 4122 version 4
        id.uuid[8] = static_cast<uint8_t>((id.uuid[8] & 0x3F) | 0x80);  // and variant
    }
    if (opts.hash_seed)
        id.hash_seed = *opts.hash_seed;
    else
        randombytes_buf(id.hash_seed.data(), id.hash_seed.size());
    id.csum_seed = ext4_crc32c(~0u, id.uuid);
    return id;
}

// Every write goes through here, so the summary can say how little was written.
class MetadataWriter {
public:
    explicit MetadataWriter(BlockDevice& dev) : m_dev(dev) {}
    Result<void> write_blocks(uint64_t block, ByteView data)
    {
        TRY(m_dev.write_at(block * EXT4_BLOCK_SIZE, data));
        m_bytes += data.size();
        return {};
    }
    uint64_t bytes() const { return m_bytes; }

private:
    BlockDevice& m_dev;
    uint64_t m_bytes{0};
};

// Block bitmaps of the groups without BLOCK_UNINIT (the flex group leaders, the groups the
// journal lies in, the last group) and group 0's inode bitmap; their checksums go in the
// descriptors.
Result<Ext4BitmapChecksums> write_bitmaps(MetadataWriter& out, const Ext4Plan& plan, const Ext4Identity& id)
{
    Ext4BitmapChecksums sums{std::vector<uint32_t>(plan.group_count, 0), 0};
    Bytes bitmap(EXT4_BLOCK_SIZE);
    for (uint32_t g = 0; g < plan.group_count; ++g) {
        if (plan.groups[g].flags & EXT4_BG_BLOCK_UNINIT)
            continue;
        ext4_render_block_bitmap(plan, g, bitmap);
        sums.block[g] = ext4_block_bitmap_checksum(id, bitmap);
        TRY(out.write_blocks(plan.groups[g].block_bitmap, bitmap));
    }
    ext4_render_inode_bitmap(plan, bitmap);
    sums.inode_group0 = ext4_inode_bitmap_checksum(id, plan, bitmap);
    TRY(out.write_blocks(plan.groups[0].inode_bitmap, bitmap));
    return sums;
}

// Inodes 1..16, the directories' blocks, and of the journal only its superblock and extent leaf.
Result<void> write_files(MetadataWriter& out, const Ext4Plan& plan, const Ext4Identity& id)
{
    Bytes block(EXT4_BLOCK_SIZE);
    if (plan.journal_leaf) {
        ext4_render_journal_leaf(plan, id, block);
        TRY(out.write_blocks(plan.journal_leaf, block));
    }
    ext4_render_first_inode_block(plan, id, ext4_encode_journal_root(plan), block);
    TRY(out.write_blocks(plan.groups[0].inode_table, block));
    ext4_render_root_dir_block(id, block);
    TRY(out.write_blocks(plan.root_block, block));
    for (uint32_t i = 0; i < EXT4_LOST_FOUND_BLOCKS; ++i) {
        ext4_render_lost_found_block(id, i, block);
        TRY(out.write_blocks(plan.lost_found_block + i, block));
    }
    ext4_render_journal_superblock(plan, id, block);
    return out.write_blocks(plan.journal.front().start, block);
}

// Block 0 of group `g`: the superblock copy, at byte 1024 in group 0 (the first 1024 bytes are
// left for a boot sector, and zeroed) and at byte 0 of the group's first block elsewhere.
Bytes superblock_block(const Ext4Plan& plan, const Ext4Identity& id, uint32_t g)
{
    Bytes block(EXT4_BLOCK_SIZE, 0);
    Bytes sb = ext4_encode_superblock(plan, id, g);
    std::copy(sb.begin(), sb.end(), block.begin() + (g == 0 ? EXT4_SUPERBLOCK_OFFSET : 0));
    return block;
}

}  // namespace

Result<Ext4Layout> format_ext4(BlockDevice& dev, const Ext4Options& opts)
{
    Ext4Identity id = TRY(make_identity(opts));
    Ext4Plan plan = TRY_PREFIX(plan_ext4(dev.size()), "%s", dev.name().c_str());
    MetadataWriter out(dev);
    Ext4BitmapChecksums sums = TRY(write_bitmaps(out, plan, id));
    TRY(write_files(out, plan, id));
    Bytes descriptors = ext4_encode_group_descriptors(plan, id, sums);
    for (uint32_t g = 0; g < plan.group_count; ++g) {
        if (!ext4_group_has_super(g))
            continue;
        TRY(out.write_blocks(plan.group_first_block(g) + 1, descriptors));
        if (g != 0)
            TRY(out.write_blocks(plan.group_first_block(g), superblock_block(plan, id, g)));
    }
    TRY(dev.flush());
    TRY(out.write_blocks(0, superblock_block(plan, id, 0)));
    TRY(dev.flush());
    return Ext4Layout{plan.block_count,    plan.group_count, plan.inode_count(),
                      plan.journal_blocks, plan.free_blocks, out.bytes()};
}

}  // namespace cvm::storage
