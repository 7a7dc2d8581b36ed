#include "measure/ovmf.h"

#include <algorithm>
#include <cstring>

#include "base/file.h"
#include "base/reader.h"

namespace cvm::measure {

namespace {

inline constexpr uint32_t SEV_METADATA_VERSION = 1;
inline constexpr size_t SEV_METADATA_HEADER_SIZE = 16;
inline constexpr size_t SEV_METADATA_DESC_SIZE = 12;

bool known_type(uint32_t t)
{
    switch (static_cast<SectionType>(t)) {
    case SectionType::SnpSecMem:
    case SectionType::SnpSecrets:
    case SectionType::Cpuid:
    case SectionType::SvsmCaa:
    case SectionType::SnpKernelHashes: return true;
    }
    return false;
}

// One u32 (or two) that must be all of an entry's data.
Result<uint32_t> entry_u32(const Bytes& data, const char* what)
{
    Reader r(data, what);
    uint32_t v = TRY(r.u32le("value"));
    TRY(r.finish());
    return v;
}

}  // namespace

const char* section_type_name(SectionType t)
{
    switch (t) {
    case SectionType::SnpSecMem: return "SNP_SEC_MEM";
    case SectionType::SnpSecrets: return "SNP_SECRETS";
    case SectionType::Cpuid: return "CPUID";
    case SectionType::SvsmCaa: return "SVSM_CAA";
    case SectionType::SnpKernelHashes: return "SNP_KERNEL_HASHES";
    }
    return "?";
}

Result<FirmwareImage> FirmwareImage::load(const std::string& path, uint64_t end_gpa)
{
    auto data = read_file(path, MAX_FIRMWARE_SIZE);
    if (!data.ok())
        return data.release_error();
    auto image = parse(data.release_value(), end_gpa);
    if (!image.ok())
        return image.release_error().prefix("%s", path.c_str());
    return image;
}

Result<FirmwareImage> FirmwareImage::parse(Bytes data, uint64_t end_gpa)
{
    if (data.size() > end_gpa)
        return Error::make(Errc::Format, "the image (%zu bytes) does not fit below GPA 0x%llx", data.size(),
                           static_cast<unsigned long long>(end_gpa));
    FirmwareImage image;
    image.m_data = std::move(data);
    image.m_end_gpa = end_gpa;
    image.m_gpa = end_gpa - image.m_data.size();
    image.m_table = TRY(FooterTable::parse(image.m_data));
    TRY(image.decode_entries());
    TRY(image.check_sections());
    return image;
}

Result<void> FirmwareImage::decode_entries()
{
    if (const Bytes* d = m_table.find(SEV_ES_RESET_BLOCK_GUID))
        m_reset_eip = TRY(entry_u32(*d, "OVMF footer table: SEV-ES reset block entry"));
    if (const Bytes* d = m_table.find(SVSM_INFO_GUID))
        m_svsm_entry = TRY(entry_u32(*d, "OVMF footer table: SVSM info entry"));
    if (const Bytes* d = m_table.find(SEV_HASH_TABLE_RV_GUID)) {
        Reader r(*d, "OVMF footer table: SEV hash table entry");
        HashTableArea area{};
        area.base = TRY(r.u32le("base"));
        area.size = TRY(r.u32le("size"));
        TRY(r.finish());
        m_hash_table = area;
    }
    if (const Bytes* d = m_table.find(OVMF_SEV_METADATA_GUID))
        TRY(parse_metadata(TRY(entry_u32(*d, "OVMF footer table: SEV metadata entry"))));
    return {};
}

Result<void> FirmwareImage::parse_metadata(uint32_t offset_from_end)
{
    if (offset_from_end < SEV_METADATA_HEADER_SIZE || offset_from_end > m_data.size())
        return Error::make(Errc::Format, "SEV metadata offset 0x%x (from the end) is outside the %zu-byte image",
                           offset_from_end, m_data.size());
    size_t start = m_data.size() - offset_from_end;
    Reader r(TRY(image_slice(m_data, start, offset_from_end, "SEV metadata")), "SEV metadata");
    ByteView signature = TRY(r.bytes(4, "signature"));
    if (memcmp(signature.data(), "ASEV", 4) != 0)
        return Error::make(Errc::Format, "SEV metadata at offset 0x%zx: signature is not \"ASEV\"", start);
    uint32_t size = TRY(r.u32le("size"));
    uint32_t version = TRY(r.u32le("version"));
    uint32_t count = TRY(r.u32le("num_items"));
    if (version != SEV_METADATA_VERSION)
        return Error::make(Errc::Unsupported, "SEV metadata version is %u, expected %u", version, SEV_METADATA_VERSION);
    uint64_t expected = SEV_METADATA_HEADER_SIZE + uint64_t(count) * SEV_METADATA_DESC_SIZE;
    if (size != expected || size > offset_from_end)
        return Error::make(Errc::Format,
                           "SEV metadata size 0x%x does not match its %u descriptors (0x%llx) or the 0x%x bytes left",
                           size, count, static_cast<unsigned long long>(expected), offset_from_end);
    for (uint32_t i = 0; i < count; ++i) {
        MetadataSection s{};
        s.gpa = TRY(r.u32le("descriptor gpa"));
        s.size = TRY(r.u32le("descriptor size"));
        uint32_t type = TRY(r.u32le("descriptor type"));
        if (!known_type(type))
            return Error::make(Errc::Unsupported, "SEV metadata section %u has unknown type 0x%x", i, type);
        s.type = static_cast<SectionType>(type);
        m_sections.push_back(s);
    }
    return {};
}

Result<void> FirmwareImage::check_sections() const
{
    for (size_t i = 0; i < m_sections.size(); ++i) {
        const MetadataSection& s = m_sections[i];
        uint64_t end = uint64_t(s.gpa) + s.size;
        const char* fault = nullptr;
        if (s.gpa % GUEST_PAGE_SIZE != 0 || s.size % GUEST_PAGE_SIZE != 0 || s.size == 0)
            fault = "is not a non-empty run of whole 4 KiB pages";
        else if (end > FOUR_GIB)
            fault = "reaches past 4 GiB";
        else if (end > m_gpa && s.gpa < m_end_gpa)
            fault = "overlaps the firmware image itself";
        else if ((s.type == SectionType::SnpSecrets || s.type == SectionType::Cpuid) && s.size != GUEST_PAGE_SIZE)
            fault = "must be exactly one page";
        if (fault)
            return Error::make(Errc::Format, "SEV metadata section %zu (%s at 0x%x, 0x%x bytes) %s", i,
                               section_type_name(s.type), s.gpa, s.size, fault);
    }
    std::vector<size_t> order(m_sections.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return m_sections[a].gpa < m_sections[b].gpa; });
    for (size_t k = 1; k < order.size(); ++k) {
        const MetadataSection& lo = m_sections[order[k - 1]];
        const MetadataSection& hi = m_sections[order[k]];
        if (uint64_t(lo.gpa) + lo.size > hi.gpa)
            return Error::make(Errc::Format,
                               "SEV metadata sections %zu (%s at 0x%x, 0x%x bytes) and %zu (%s at 0x%x) overlap",
                               order[k - 1], section_type_name(lo.type), lo.gpa, lo.size, order[k],
                               section_type_name(hi.type), hi.gpa);
    }
    return {};
}

const MetadataSection* FirmwareImage::find_section(SectionType t) const
{
    for (const MetadataSection& s : m_sections) {
        if (s.type == t)
            return &s;
    }
    return nullptr;
}

}  // namespace cvm::measure
