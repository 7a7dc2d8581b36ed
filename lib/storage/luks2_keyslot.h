// The cryptography of a LUKS2 "luks2" keyslot and "pbkdf2" digest: PBKDF2-HMAC-SHA256 and the
// LUKS1 anti-forensic (AF) splitter with the SHA-256 diffuser, as the LUKS1 On-Disk Format
// Specification (version 1.2.3) §2.4 "AF-Splitter" defines them and LUKS2 reuses them.
//
// Internal to storage/luks2_*; luks2_volume.h is the interface.
#pragma once

#include <cstdint>
#include <span>

#include "base/result.h"
#include "base/secret.h"

namespace cvm::storage::luks2 {

constexpr uint32_t AF_STRIPES = 4000;
constexpr size_t AF_KEY_SIZE = 64;                             // keyslot key_size
constexpr size_t AF_MATERIAL_SIZE = AF_KEY_SIZE * AF_STRIPES;  // 256000: 500 sectors
constexpr size_t KEYSLOT_SECTOR_SIZE = 512;                    // keyslot areas use 512-byte sectors
constexpr size_t AREA_ALIGNMENT = 4096;
constexpr size_t AF_AREA_MIN_SIZE = (AF_MATERIAL_SIZE + AREA_ALIGNMENT - 1) / AREA_ALIGNMENT * AREA_ALIGNMENT;
static_assert(AF_MATERIAL_SIZE % KEYSLOT_SECTOR_SIZE == 0 && AF_AREA_MIN_SIZE == 258048);

// Fills `out` from libsodium's CSPRNG (initialised on first use; aborts if there is none).
void fill_random(std::span<uint8_t> out);

// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) of `length` bytes. Errc::Crypto if mbedTLS fails.
Result<SecretBytes> pbkdf2_sha256(ByteView secret, ByteView salt, uint32_t iterations, size_t length);

// AF-splits `key` (AF_KEY_SIZE bytes) into AF_MATERIAL_SIZE bytes: AF_STRIPES - 1 random
// stripes, then the key XOR the diffused running XOR of them.
SecretBytes af_split(ByteView key);

// The inverse: `material` is AF_MATERIAL_SIZE bytes; returns the AF_KEY_SIZE-byte key.
SecretBytes af_merge(ByteView material);

}  // namespace cvm::storage::luks2
