// The LUKS2 binary header: one 4 KiB structure in front of each of the two JSON areas.
//
// Layout from the LUKS2 On-Disk Format Specification (Broz, version 1.1), §2 "LUKS2 binary
// header", Table 1; all integers big-endian. Only the strict profile's sizes are accepted:
// hdr_size 16384 for both copies, so the JSON area is 12288 bytes, the primary copy is at
// offset 0, the secondary at 16384, and the keyslots area starts at 32768.
//
// Internal to storage/luks2_*; luks2_volume.h is the interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::storage::luks2 {

constexpr size_t HEADER_SIZE = 16384;  // hdr_size: binary header plus JSON area
constexpr size_t BINARY_HEADER_SIZE = 4096;
constexpr size_t JSON_AREA_SIZE = HEADER_SIZE - BINARY_HEADER_SIZE;
constexpr uint64_t PRIMARY_OFFSET = 0;
constexpr uint64_t SECONDARY_OFFSET = HEADER_SIZE;
constexpr uint64_t KEYSLOTS_AREA_OFFSET = 2 * HEADER_SIZE;

// Table 1 fields (offset, size).
constexpr size_t MAGIC_OFFSET = 0, MAGIC_SIZE = 6;
constexpr size_t VERSION_OFFSET = 6;
constexpr size_t HDR_SIZE_OFFSET = 8;
constexpr size_t SEQID_OFFSET = 16;
constexpr size_t LABEL_OFFSET = 24, LABEL_SIZE = 48;
constexpr size_t CHECKSUM_ALG_OFFSET = 72, CHECKSUM_ALG_SIZE = 32;
constexpr size_t SALT_OFFSET = 104, SALT_SIZE = 64;
constexpr size_t UUID_OFFSET = 168, UUID_SIZE = 40;
constexpr size_t SUBSYSTEM_OFFSET = 208, SUBSYSTEM_SIZE = 48;
constexpr size_t HDR_OFFSET_OFFSET = 256;
constexpr size_t PADDING_OFFSET = 264, PADDING_SIZE = 184;
constexpr size_t CSUM_OFFSET = 448, CSUM_SIZE = 64;
constexpr size_t PADDING4096_OFFSET = 512, PADDING4096_SIZE = 7 * 512;
static_assert(PADDING4096_OFFSET + PADDING4096_SIZE == BINARY_HEADER_SIZE);
static_assert(CSUM_OFFSET + CSUM_SIZE == PADDING4096_OFFSET);
constexpr size_t SHA256_SIZE = 32;  // the checksum fills the first 32 csum bytes; the rest is zero

enum class Copy : uint8_t { Primary, Secondary };
const char* copy_name(Copy which);  // "primary" or "secondary"

// What one validated copy says, as found. `json` views the caller's buffer: the JSON text
// before its terminating NUL.
struct HeaderCopy {
    uint64_t seqid{};
    std::string label;
    std::string uuid;
    std::string_view json;
};

// Validates one HEADER_SIZE-byte copy: magic (LUKS\xba\xbe or SKUL\xba\xbe), version 2,
// hdr_size 16384, checksum_alg "sha256" with a matching SHA-256 over the whole copy with the
// csum field zeroed, hdr_offset of this copy, printable NUL-padded label, canonical lower-case
// UUID, empty subsystem, zero padding, and a JSON area of non-empty text, one NUL and only NULs
// after it. Errc::Format (Unsupported for another version, size or checksum algorithm) naming
// the copy and the field.
Result<HeaderCopy> parse_copy(ByteView bytes, Copy which);

// A HEADER_SIZE-byte copy holding `fields` (label, uuid and json as they will appear), with a
// fresh random salt and its checksum. Errc::Format when a field does not fit its slot.
Result<Bytes> build_copy(Copy which, uint64_t seqid, std::string_view label, std::string_view uuid,
                         std::string_view json);

// For messages about header values: at most 40 bytes of `value`, printable ASCII kept (except
// '"' and '\'), everything else as \xNN, "..." when shortened.
std::string shown(std::string_view value);

}  // namespace cvm::storage::luks2
