#include "measure/ovmf_table.h"

#include <cstring>

#include "base/reader.h"

namespace cvm::measure {

namespace {

struct EntryHeader {
    uint16_t length;
    Guid guid;
};

// The 18-byte (u16 length, GUID) pair that ends an entry at `end` (>= 18).
Result<EntryHeader> entry_header(ByteView image, size_t end, const char* field)
{
    Reader r(TRY(image_slice(image, end - FOOTER_ENTRY_HEADER_SIZE, FOOTER_ENTRY_HEADER_SIZE, field)),
             "OVMF footer table");
    EntryHeader h{};
    h.length = TRY(r.u16le(field));
    h.guid.bytes = TRY(r.array<16>(field));
    return h;
}

}  // namespace

Result<ByteView> image_slice(ByteView image, size_t offset, size_t n, const char* field)
{
    Reader r(image, "firmware image");
    TRY(r.skip(offset, field));
    return r.bytes(n, field);
}

std::string to_string(const Guid& g)
{
    static constexpr size_t ORDER[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    std::string out;
    for (size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += to_hex(ByteView(&g.bytes[ORDER[i]], 1));
    }
    return out;
}

Result<FooterTable> FooterTable::parse(ByteView image)
{
    FooterTable table;
    if (image.size() < FOOTER_TABLE_END_GAP + FOOTER_ENTRY_HEADER_SIZE)
        return Error::make(Errc::Format, "the image is %zu bytes, too small for an OVMF footer table (%zu)",
                           image.size(), FOOTER_TABLE_END_GAP + FOOTER_ENTRY_HEADER_SIZE);
    size_t footer_end = image.size() - FOOTER_TABLE_END_GAP;
    EntryHeader footer = TRY(entry_header(image, footer_end, "footer entry"));
    if (footer.guid != OVMF_TABLE_FOOTER_GUID)
        return table;
    table.m_present = true;
    size_t footer_start = footer_end - FOOTER_ENTRY_HEADER_SIZE;
    if (footer.length < FOOTER_ENTRY_HEADER_SIZE || footer.length - FOOTER_ENTRY_HEADER_SIZE > footer_start)
        return Error::make(Errc::Format,
                           "OVMF footer table length 0x%x at offset 0x%zx is out of range: it must be at least 0x%zx "
                           "and fit in the 0x%zx bytes before the footer",
                           footer.length, footer_start, FOOTER_ENTRY_HEADER_SIZE, footer_start);
    size_t table_start = footer_start - (footer.length - FOOTER_ENTRY_HEADER_SIZE);
    for (size_t end = footer_start; end > table_start;) {
        size_t left = end - table_start;
        if (left < FOOTER_ENTRY_HEADER_SIZE)
            return Error::make(Errc::Format, "OVMF footer table: %zu bytes at offset 0x%zx are not a whole entry", left,
                               table_start);
        EntryHeader h = TRY(entry_header(image, end, "entry"));
        if (h.length < FOOTER_ENTRY_HEADER_SIZE || h.length > left)
            return Error::make(Errc::Format,
                               "OVMF footer table: entry %s ending at offset 0x%zx has length 0x%x, expected 0x%zx to "
                               "0x%zx",
                               to_string(h.guid).c_str(), end, h.length, FOOTER_ENTRY_HEADER_SIZE, left);
        if (table.find(h.guid))
            return Error::make(Errc::Format, "OVMF footer table: entry %s appears twice", to_string(h.guid).c_str());
        size_t start = end - h.length;
        ByteView data = TRY(image_slice(image, start, h.length - FOOTER_ENTRY_HEADER_SIZE, "entry data"));
        table.m_entries.push_back({h.guid, Bytes(data.begin(), data.end())});
        end = start;
    }
    return table;
}

const Bytes* FooterTable::find(const Guid& g) const
{
    for (const FooterEntry& e : m_entries) {
        if (e.guid == g)
            return &e.data;
    }
    return nullptr;
}

}  // namespace cvm::measure
