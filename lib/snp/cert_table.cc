#include "snp/cert_table.h"

#include <cstdio>

#include "base/reader.h"

namespace cvm::snp {

std::string guid_to_string(const Guid& g)
{
    char buf[37];
    snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[0], g[1], g[2],
             g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
    return buf;
}

std::string_view cert_kind_name(CertKind kind)
{
    switch (kind) {
    case CertKind::Ark: return "ARK";
    case CertKind::Ask: return "ASK";
    case CertKind::Vcek: return "VCEK";
    case CertKind::Vlek: return "VLEK";
    case CertKind::Other: return "other";
    }
    return "?";
}

namespace {

CertKind kind_of(const Guid& guid)
{
    if (guid == GUID_ARK)
        return CertKind::Ark;
    if (guid == GUID_ASK)
        return CertKind::Ask;
    if (guid == GUID_VCEK)
        return CertKind::Vcek;
    if (guid == GUID_VLEK)
        return CertKind::Vlek;
    return CertKind::Other;
}

struct RawEntry {
    Guid guid;
    uint32_t offset;
    uint32_t length;
};

}  // namespace

std::vector<Bytes> cert_ders(const std::vector<CertEntry>& entries)
{
    std::vector<Bytes> out;
    for (const CertEntry& e : entries)
        out.push_back(e.der);
    return out;
}

Result<std::vector<CertEntry>> parse_cert_table(ByteView table)
{
    if (table.size() > CERT_TABLE_MAX_SIZE)
        return Error::make(Errc::Format, "certificate table is %zu bytes, more than the %zu allowed", table.size(),
                           CERT_TABLE_MAX_SIZE);
    Reader r(table, "certificate table");
    std::vector<RawEntry> raw;
    for (;;) {
        if (raw.size() > CERT_TABLE_MAX_ENTRIES)
            return Error::make(Errc::Format, "certificate table has more than %zu entries", CERT_TABLE_MAX_ENTRIES);
        RawEntry e{};
        e.guid = TRY(r.array<16>("entry GUID"));
        e.offset = TRY(r.u32le("entry offset"));
        e.length = TRY(r.u32le("entry length"));
        if (all_zero(e.guid) && e.offset == 0 && e.length == 0)
            break;
        raw.push_back(e);
    }
    const size_t header_size = r.offset();
    std::vector<CertEntry> out;
    for (size_t i = 0; i < raw.size(); ++i) {
        const RawEntry& e = raw[i];
        std::string name = guid_to_string(e.guid);
        if (e.offset < header_size)
            return Error::make(Errc::Format,
                               "certificate table entry %zu (%s): offset %u lies inside the %zu-byte entry array", i,
                               name.c_str(), e.offset, header_size);
        if (e.length == 0 || uint64_t(e.offset) + e.length > table.size())
            return Error::make(Errc::Format,
                               "certificate table entry %zu (%s): blob [%u, +%u) is empty or past the %zu-byte buffer",
                               i, name.c_str(), e.offset, e.length, table.size());
        for (size_t j = 0; j < i; ++j) {
            if (raw[j].guid == e.guid)
                return Error::make(Errc::Format, "certificate table entry %zu: GUID %s appears twice", i, name.c_str());
        }
        ByteView blob = table.subspan(e.offset, e.length);
        out.push_back({e.guid, kind_of(e.guid), Bytes(blob.begin(), blob.end())});
    }
    return out;
}

Bytes build_cert_table(const std::vector<CertEntry>& entries)
{
    size_t header = (entries.size() + 1) * CERT_TABLE_ENTRY_SIZE;
    Bytes out(header);
    for (size_t i = 0; i < entries.size(); ++i) {
        uint8_t* e = out.data() + i * CERT_TABLE_ENTRY_SIZE;
        std::copy(entries[i].guid.begin(), entries[i].guid.end(), e);
        put_le32(e + 16, static_cast<uint32_t>(out.size()));
        put_le32(e + 20, static_cast<uint32_t>(entries[i].der.size()));
        out.insert(out.end(), entries[i].der.begin(), entries[i].der.end());
    }
    return out;
}

}  // namespace cvm::snp
