#include "storage/ext4_crc32c.h"

#include <array>

namespace cvm::storage {
namespace {

// Reflected polynomial 0x1EDC6F41 (RFC 3720 appendix B.4), one byte per step: the formatter
// checksums a few megabytes at most (the group descriptors of a 128 TiB volume).
constexpr uint32_t CRC32C_POLY_REFLECTED = 0x82F63B78;

constexpr std::array<uint32_t, 256> make_table()
{
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY_REFLECTED : c >> 1;
        table[i] = c;
    }
    return table;
}

constexpr std::array<uint32_t, 256> TABLE = make_table();

}  // namespace

uint32_t ext4_crc32c(uint32_t crc, ByteView data)
{
    for (uint8_t b : data)
        crc = TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8);
    return crc;
}

}  // namespace cvm::storage
