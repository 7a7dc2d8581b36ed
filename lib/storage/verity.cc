// The tree's geometry and the kernel's table line; the superblock is in verity_superblock.cc and
// the hashing in verity_tree.cc.
#include <cinttypes>
#include <cstdio>

#include "storage/verity.h"

namespace cvm::storage::verity {

Result<TreeLayout> tree_layout(uint64_t data_blocks)
{
    if (data_blocks == 0 || data_blocks > MAX_DATA_BLOCKS)
        return Error::make(Errc::Config, "verity data_blocks is %" PRIu64 ", expected 1 to %" PRIu64, data_blocks,
                           MAX_DATA_BLOCKS);
    // Each level needs one digest per block of the level below, HASHES_PER_BLOCK to a hash
    // block, until a level fits in one block: that block is what the root hash covers.
    TreeLayout layout;
    for (uint64_t below = data_blocks; below > 1;) {
        below = (below + HASHES_PER_BLOCK - 1) / HASHES_PER_BLOCK;
        layout.levels.push_back({0, below});
    }
    // Stored top level first, from the block after the superblock (cryptsetup's hash_levels()).
    uint64_t position = HASH_START_BLOCK;
    for (size_t i = layout.levels.size(); i-- > 0;) {
        layout.levels[i].first_block = position;
        position += layout.levels[i].blocks;
    }
    layout.hash_blocks = position - HASH_START_BLOCK;
    layout.device_bytes = position * BLOCK_BYTES;  // at most 2^52 / 127 + 9 blocks: no overflow
    return layout;
}

Result<void> check_device_name(std::string_view name, const char* what)
{
    if (name.empty())
        return Error::make(Errc::Config, "%s is empty, expected a device path such as /dev/vdb", what);
    for (char c : name) {
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '\\')
            return Error::make(Errc::Config,
                               "%s has the character 0x%02x, expected printable ASCII without spaces or quotes", what,
                               static_cast<unsigned char>(c));
    }
    return {};
}

Result<std::string> dm_table(std::string_view data_device, std::string_view hash_device, const Superblock& sb,
                             const RootHash& root)
{
    TRY(check_device_name(data_device, "data device"));
    TRY(check_device_name(hash_device, "hash device"));
    TRY(tree_layout(sb.data_blocks));
    if (sb.salt.size() > MAX_SALT_SIZE)
        return Error::make(Errc::Config, "verity salt is %zu bytes, expected at most %zu", sb.salt.size(),
                           MAX_SALT_SIZE);
    // <version> <dev> <hash_dev> <data_block_size> <hash_block_size> <num_data_blocks>
    // <hash_start_block> <algorithm> <digest> <salt>
    char numbers[96];
    snprintf(numbers, sizeof numbers, " %" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRIu64 " ", BLOCK_BYTES, BLOCK_BYTES,
             sb.data_blocks, HASH_START_BLOCK);
    std::string line = std::to_string(HASH_TYPE);
    line += " ";
    line += data_device;
    line += " ";
    line += hash_device;
    line += numbers;
    line += ALGORITHM;
    line += " " + to_hex(root) + " " + salt_text(sb.salt);
    return line;
}

}  // namespace cvm::storage::verity
