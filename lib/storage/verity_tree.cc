// Building and checking the hash tree: one streaming pass per level, bottom up, as the kernel
// would read it. A level is made from the level below (the data device for level 0) HASHES_PER_BLOCK
// blocks at a time, so memory stays at one 512 KiB chunk whatever the image size.
#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "crypto/digest.h"
#include "storage/verity.h"

namespace cvm::storage::verity {
namespace {

using Block = std::array<uint8_t, BLOCK_BYTES>;

enum class Mode : uint8_t { Build, Check };

// "the salt is prepended when hashing" (verity.rst, <version> 1).
RootHash salted_digest(ByteView salt, ByteView block)
{
    crypto::Sha256 h;
    h.update(salt);
    h.update(block);
    return h.finish();
}

// Hashes `count` blocks of `source` from block `first`; each HASHES_PER_BLOCK of them make one
// zero-padded hash block, handed to emit(index in the new level, digests in it, block).
template <typename Emit>
Result<void> hash_level(BlockDevice& source, uint64_t first, uint64_t count, ByteView salt, Emit&& emit)
{
    Bytes chunk(HASHES_PER_BLOCK * BLOCK_BYTES);
    Block out;
    for (uint64_t index = 0; index * HASHES_PER_BLOCK < count; ++index) {
        uint64_t done = index * HASHES_PER_BLOCK;
        size_t n = static_cast<size_t>(std::min<uint64_t>(HASHES_PER_BLOCK, count - done));
        TRY(source.read_at((first + done) * BLOCK_BYTES, std::span(chunk.data(), n * BLOCK_BYTES)));
        out.fill(0);
        for (size_t j = 0; j < n; ++j) {
            RootHash d = salted_digest(salt, ByteView(chunk).subspan(j * BLOCK_BYTES, BLOCK_BYTES));
            memcpy(&out[j * DIGEST_SIZE], d.data(), DIGEST_SIZE);
        }
        TRY(emit(index, n, out));
    }
    return {};
}

// Names what a stored hash block got wrong: the first block below whose digest differs, or a
// non-zero tail.
Error mismatch(const Block& stored, const Block& computed, size_t digests, size_t level, uint64_t below_first,
               uint64_t below_index, uint64_t stored_block)
{
    for (size_t j = 0; j < digests; ++j) {
        if (memcmp(&stored[j * DIGEST_SIZE], &computed[j * DIGEST_SIZE], DIGEST_SIZE) == 0)
            continue;
        if (level == 0)
            return Error::make(Errc::Crypto,
                               "data block %" PRIu64 " does not match its hash in hash block %" PRIu64 " (level 0)",
                               below_index + j, stored_block);
        return Error::make(Errc::Crypto,
                           "hash block %" PRIu64 " (level %zu) does not match its hash in hash block %" PRIu64
                           " (level %zu)",
                           below_first + below_index + j, level - 1, stored_block, level);
    }
    return Error::make(Errc::Crypto, "hash block %" PRIu64 " (level %zu) has non-zero bytes after its %zu hashes",
                       stored_block, level, digests);
}

Result<void> check_sizes(BlockDevice& data, BlockDevice& hash, uint64_t data_blocks, const TreeLayout& layout)
{
    if (data.size() / BLOCK_BYTES < data_blocks)
        return Error::make(Errc::Config,
                           "data device %s is %" PRIu64 " bytes, expected at least %" PRIu64 " (%" PRIu64
                           " blocks of 4096)",
                           data.name().c_str(), data.size(), data_blocks * BLOCK_BYTES, data_blocks);
    if (hash.size() < layout.device_bytes)
        return Error::make(Errc::Config,
                           "hash device %s is %" PRIu64 " bytes, expected at least %" PRIu64 " for %" PRIu64
                           " data blocks",
                           hash.name().c_str(), hash.size(), layout.device_bytes, data_blocks);
    return {};
}

Result<RootHash> walk(BlockDevice& data, BlockDevice& hash, const Superblock& sb, Mode mode)
{
    TreeLayout layout = TRY(tree_layout(sb.data_blocks));
    std::array<uint8_t, SUPERBLOCK_SIZE> encoded = TRY(encode_superblock(sb));
    TRY(check_sizes(data, hash, sb.data_blocks, layout));

    Block top;
    if (layout.levels.empty())
        TRY(data.read_at(0, top));  // one data block: its digest is the root
    for (size_t level = 0; level < layout.levels.size(); ++level) {
        const TreeLayout::Level& here = layout.levels[level];
        BlockDevice& source = level == 0 ? data : hash;
        uint64_t below_first = level == 0 ? 0 : layout.levels[level - 1].first_block;
        uint64_t below_count = level == 0 ? sb.data_blocks : layout.levels[level - 1].blocks;
        auto emit = [&](uint64_t index, size_t digests, const Block& block) -> Result<void> {
            uint64_t at = here.first_block + index;
            top = block;  // the top level has one block: the last one emitted
            if (mode == Mode::Build)
                return hash.write_at(at * BLOCK_BYTES, block);
            Block stored;
            TRY(hash.read_at(at * BLOCK_BYTES, stored));
            if (stored == block)
                return {};
            return mismatch(stored, block, digests, level, below_first, index * HASHES_PER_BLOCK, at);
        };
        TRY(hash_level(source, below_first, below_count, sb.salt, emit));
    }

    if (mode == Mode::Build) {
        // The superblock last, as veritysetup does, padded to a whole hash block with zeros.
        Block first{};
        memcpy(first.data(), encoded.data(), encoded.size());
        TRY(hash.write_at(0, first));
        TRY(hash.flush());
    }
    return salted_digest(sb.salt, top);
}

}  // namespace

Result<RootHash> build_tree(BlockDevice& data, BlockDevice& hash, const Superblock& sb)
{
    return walk(data, hash, sb, Mode::Build);
}

Result<RootHash> check_tree(BlockDevice& data, BlockDevice& hash, const Superblock& sb)
{
    return walk(data, hash, sb, Mode::Check);
}

Result<Superblock> verify_tree(BlockDevice& data, BlockDevice& hash, const RootHash& expected_root)
{
    Superblock sb = TRY(read_superblock(hash));
    RootHash root = TRY(check_tree(data, hash, sb));
    if (root != expected_root)
        return Error::make(Errc::Crypto, "the tree's root hash is %s, expected %s", to_hex(root).c_str(),
                           to_hex(expected_root).c_str());
    return sb;
}

}  // namespace cvm::storage::verity
