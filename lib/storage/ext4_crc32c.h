// CRC32C (Castagnoli) in the form ext4 and jbd2 store it: no pre- or post-inversion, so a caller
// chains calls by passing the previous value. ext4 seeds it with ~0 (superblock, checksum seed);
// the standard CRC32C of `data` is ~ext4_crc32c(~0u, data).
#pragma once

#include <cstdint>

#include "base/bytes.h"

namespace cvm::storage {

uint32_t ext4_crc32c(uint32_t crc, ByteView data);

}  // namespace cvm::storage
