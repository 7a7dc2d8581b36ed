// The OVMF footer table: GUIDed entries that OVMF publishes at the end of its image for the VMM.
//
// Layout (edk2 OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm; read by QEMU's
// hw/i386/pc_sysfw_ovmf.c), for an image of N bytes:
//
//   N-32 .. N-1    not part of the table (the reset vector: AP entry jump, "VTF\0", jump at 4G-16)
//   N-48 .. N-33   footer GUID 96b582de-1fb2-45f7-baea-a366c55a082d
//   N-50 .. N-49   u16 LE: length of the whole table, this 18-byte footer entry included
//   below that     entries, walked from the footer downwards, each laid out as
//                  [data][u16 LE length = data + 18][16-byte GUID]
//
// An image without the footer GUID simply has no table (QEMU treats it the same way). A table
// that is present must be well formed: every entry length at least 18 and within the table,
// no bytes left over, no GUID twice (QEMU takes the highest entry of a GUID, sev-snp-measure the
// lowest, so a duplicate would make them disagree).
#pragma once

#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "measure/guid.h"

namespace cvm::measure {

inline constexpr Guid OVMF_TABLE_FOOTER_GUID = guid("96b582de-1fb2-45f7-baea-a366c55a082d");

// Offsets from the end of the image (see the layout above).
inline constexpr size_t FOOTER_TABLE_END_GAP = 32;
inline constexpr size_t FOOTER_ENTRY_HEADER_SIZE = 18;  // u16 length + GUID

struct FooterEntry {
    Guid guid;
    Bytes data;  // a copy of the entry's data bytes
};

// The `n` bytes at `offset` of `image`, through base::Reader: Errc::Format naming `field` when
// they are not all inside it.
Result<ByteView> image_slice(ByteView image, size_t offset, size_t n, const char* field);

class FooterTable {
public:
    // Parses the table at the end of `image`. Errc::Format names the fault and its offset.
    static Result<FooterTable> parse(ByteView image);

    // True when the image carries the footer GUID.
    bool present() const { return m_present; }
    // Entries from the top (next to the footer) down, as the table is walked.
    const std::vector<FooterEntry>& entries() const { return m_entries; }
    // The data of the entry with `g`, if any.
    const Bytes* find(const Guid& g) const;

private:
    bool m_present{false};
    std::vector<FooterEntry> m_entries;
};

}  // namespace cvm::measure
