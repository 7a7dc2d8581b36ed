// GUID certificate table: the buffer SNP_GET_EXT_REPORT fills and configfs-tsm exposes as
// `auxblob` (GHCB specification 56421, "SNP Extended Guest Request", certificate table).
//
// An array of 24-byte entries {GUID (16 bytes, RFC 4122 byte order), u32 offset, u32 length},
// ended by an all-zero entry. Offsets count from the start of the table; each blob (DER) must lie
// after the entry array and inside the buffer. Bytes after the last blob are padding (the kernel
// hands out page-sized buffers) and are ignored.
#pragma once

#include <array>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::snp {

using Guid = std::array<uint8_t, 16>;

enum class CertKind : uint8_t { Ark, Ask, Vcek, Vlek, Other };

inline constexpr Guid GUID_ARK = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                  0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};
inline constexpr Guid GUID_ASK = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                  0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};  // ASK or ASVK
inline constexpr Guid GUID_VCEK = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                   0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
inline constexpr Guid GUID_VLEK = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                   0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};

inline constexpr size_t CERT_TABLE_ENTRY_SIZE = 24;
inline constexpr size_t CERT_TABLE_MAX_SIZE = 0x4000;  // SEV_FW_BLOB_MAX_SIZE in the kernel
inline constexpr size_t CERT_TABLE_MAX_ENTRIES = 64;

struct CertEntry {
    Guid guid{};
    CertKind kind{CertKind::Other};
    Bytes der;
};

// "c0b406a4-a803-4952-9743-3fb6014cd0ae"
std::string guid_to_string(const Guid& guid);
std::string_view cert_kind_name(CertKind kind);

// Parses a table. Rejects (Errc::Format, naming the entry): a buffer over CERT_TABLE_MAX_SIZE, a
// missing terminator, an offset inside the entry array, a blob past the end, an empty blob, a
// duplicate GUID. Unknown GUIDs are kept as CertKind::Other.
Result<std::vector<CertEntry>> parse_cert_table(ByteView table);

// The certificates alone (DER), in the table's order.
std::vector<Bytes> cert_ders(const std::vector<CertEntry>& entries);

// Builds a table in the same format (entries in the given order, blobs packed after the
// terminator). The inverse of parse_cert_table for well-formed input.
Bytes build_cert_table(const std::vector<CertEntry>& entries);

}  // namespace cvm::snp
