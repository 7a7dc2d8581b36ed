// libFuzzer harness: the strict verity superblock parser (lib/storage/verity.h).
//
// Properties beyond "no crash": an accepted input is exactly 512 bytes and re-encodes to itself
// (every byte is either a checked field or checked zero padding), and what it describes has a
// tree layout and a table line.
#include <cstdlib>
#include <cstring>

#include "storage/verity.h"

using namespace cvm;
using namespace cvm::storage::verity;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto sb = parse_superblock(ByteView(data, size));
    if (!sb.ok())
        return 0;
    if (size != SUPERBLOCK_SIZE)
        abort();
    auto encoded = encode_superblock(sb.value());
    if (!encoded.ok() || memcmp(encoded->data(), data, size) != 0)
        abort();
    auto layout = tree_layout(sb->data_blocks);
    if (!layout.ok() || layout->device_bytes < BLOCK_BYTES)
        abort();
    if (!dm_table("/dev/vda", "/dev/vdb", sb.value(), RootHash{}).ok())
        abort();
    return 0;
}
