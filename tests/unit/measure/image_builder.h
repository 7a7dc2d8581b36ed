// Synthetic firmware images for the OVMF parser tests: a footer table with chosen entries and an
// optional SEV metadata block, laid out as OVMF lays them out (measure/ovmf_table.h, ovmf.h).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/bytes.h"
#include "measure/ovmf.h"

namespace cvm::test {

struct TableEntry {
    measure::Guid guid;
    Bytes data;
};

inline Bytes u32_data(uint32_t v)
{
    Bytes b(4);
    put_le32(b.data(), v);
    return b;
}

// A `size`-byte image whose footer table holds `entries`, the first next to the footer.
inline Bytes image_with_table(const std::vector<TableEntry>& entries, size_t size = 4096)
{
    Bytes image(size, 0xCC);
    size_t end = size - measure::FOOTER_TABLE_END_GAP;
    auto put_entry = [&](const measure::Guid& g, ByteView data, size_t length) {
        memcpy(&image[end - 16], g.bytes.data(), 16);
        image[end - 18] = static_cast<uint8_t>(length);
        image[end - 17] = static_cast<uint8_t>(length >> 8);
        std::copy(data.begin(), data.end(), image.begin() + static_cast<long>(end - 18 - data.size()));
        end -= 18 + data.size();
    };
    size_t total = 18;
    for (const TableEntry& e : entries)
        total += 18 + e.data.size();
    put_entry(measure::OVMF_TABLE_FOOTER_GUID, {}, total);
    for (const TableEntry& e : entries)
        put_entry(e.guid, e.data, 18 + e.data.size());
    return image;
}

using Section = std::array<uint32_t, 3>;  // gpa, size, type

// The "ASEV" block for `sections`.
inline Bytes sev_metadata(const std::vector<Section>& sections, uint32_t version = 1)
{
    Bytes m(16 + 12 * sections.size());
    memcpy(m.data(), "ASEV", 4);
    put_le32(&m[4], static_cast<uint32_t>(m.size()));
    put_le32(&m[8], version);
    put_le32(&m[12], static_cast<uint32_t>(sections.size()));
    for (size_t i = 0; i < sections.size(); ++i)
        for (size_t k = 0; k < 3; ++k)
            put_le32(&m[16 + 12 * i + 4 * k], sections[i][k]);
    return m;
}

inline constexpr size_t METADATA_OFFSET = 0x100;

// A 4 KiB image with a reset block, `metadata` at METADATA_OFFSET, and `more` entries.
inline Bytes image_with_metadata(const Bytes& metadata, std::vector<TableEntry> more = {})
{
    more.push_back({measure::SEV_ES_RESET_BLOCK_GUID, u32_data(0x80b004)});
    more.push_back({measure::OVMF_SEV_METADATA_GUID, u32_data(4096 - METADATA_OFFSET)});
    Bytes image = image_with_table(more);
    memcpy(&image[METADATA_OFFSET], metadata.data(), metadata.size());
    return image;
}

}  // namespace cvm::test
