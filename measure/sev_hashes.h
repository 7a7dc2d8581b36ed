// The SEV hashes table: how a measured direct boot binds the kernel, initrd and command line.
//
// QEMU (target/i386/sev.c `SevHashTable`, `build_kernel_loader_hashes`) writes this table into
// the firmware's SEV_HASH_TABLE_RV area; OVMF (BlobVerifierLibSevHashes) checks the blobs it
// loads against it. Packed, little-endian, GUIDs in EFI byte order:
//
//   0x00  GUID 9438d606-4f22-4cc9-b479-a793d411fd21   table header
//   0x10  u16  length = 0xa8
//   0x12  entry cmdline  GUID 97d02dd8-bd20-4c94-aa78-e7714d36ab2a
//   0x44  entry initrd   GUID 44baf731-3a2f-4bd7-9af1-41e29169781d
//   0x76  entry kernel   GUID 4de79437-abd2-427f-b835-d5b172d2045b
//         each entry: GUID, u16 length = 0x32, SHA-256[32]
//   0xa8  8 zero bytes: QEMU pads the table to a multiple of 16 (PaddedSevHashTable, 0xb0)
//
// The hashes: SHA-256 of the whole kernel file (QEMU does not patch the header when SEV is on),
// of the initrd file or of nothing, and of the command line's UTF-8 bytes plus the terminating
// NUL (just "\0" when there is none).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "crypto/digest.h"
#include "measure/guid.h"

namespace cvm::measure {

inline constexpr Guid SEV_HASH_TABLE_HEADER_GUID = guid("9438d606-4f22-4cc9-b479-a793d411fd21");
inline constexpr Guid SEV_CMDLINE_ENTRY_GUID = guid("97d02dd8-bd20-4c94-aa78-e7714d36ab2a");
inline constexpr Guid SEV_INITRD_ENTRY_GUID = guid("44baf731-3a2f-4bd7-9af1-41e29169781d");
inline constexpr Guid SEV_KERNEL_ENTRY_GUID = guid("4de79437-abd2-427f-b835-d5b172d2045b");

inline constexpr size_t SEV_HASH_TABLE_ENTRY_SIZE = 0x32;
inline constexpr size_t SEV_HASH_TABLE_SIZE = 0xa8;
inline constexpr size_t PADDED_SEV_HASH_TABLE_SIZE = 0xb0;
static_assert(SEV_HASH_TABLE_SIZE == 0x12 + 3 * SEV_HASH_TABLE_ENTRY_SIZE);
static_assert(PADDED_SEV_HASH_TABLE_SIZE % 16 == 0 && PADDED_SEV_HASH_TABLE_SIZE - SEV_HASH_TABLE_SIZE < 16);

using PaddedSevHashTable = std::array<uint8_t, PADDED_SEV_HASH_TABLE_SIZE>;

struct KernelHashes {
    crypto::Sha256Digest cmdline{};
    crypto::Sha256Digest initrd{};
    crypto::Sha256Digest kernel{};
};

// SHA-256 of `append` as QEMU measures a command line.
crypto::Sha256Digest cmdline_hash(std::string_view append);

// Checks that `kernel` is a bzImage (bzimage.h), then hashes the kernel and the initrd (if any)
// in chunks, the two files in parallel. Errors name the file.
Result<KernelHashes> hash_kernel_inputs(const std::string& kernel, const std::optional<std::string>& initrd,
                                        std::string_view append);

PaddedSevHashTable build_sev_hash_table(const KernelHashes& h);

// The 4 KiB page SNP measures for the SNP_KERNEL_HASHES section: zeros with the padded table at
// `offset` (the table's offset within its page). Requires offset + 0xb0 <= 4096.
std::array<uint8_t, 4096> build_sev_hashes_page(const KernelHashes& h, size_t offset);

}  // namespace cvm::measure
