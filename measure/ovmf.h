// A firmware image as the VMM maps it below 4 GiB, with what OVMF declares about SEV in it.
//
// From the footer table (ovmf_table.h) this reads the entries the launch digest depends on:
//
//   00f771de-1a7e-4fcb-890e-68c77e2fb44e  SEV-ES reset block: u32 AP reset address (CS:IP)
//   dc886566-984a-4798-a75e-5585a7bf67cc  SEV metadata: u32 offset of the "ASEV" header from
//                                         the end of the image
//   7255371f-3a3b-4b04-927b-1da6efa8d454  SEV hash table (SEV_HASH_TABLE_RV): u32 base GPA,
//                                         u32 size of the area QEMU fills with the kernel hashes
//   a789a612-0597-4c4b-a49f-cbb1fe9d1ddd  SVSM info (COCONUT-SVSM images): u32 entry offset
//
// and the SEV metadata (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm; QEMU
// target/i386/sev.c `OvmfSevMetadata`), all little-endian:
//
//   +0  "ASEV"   +4 u32 size (header and descriptors)   +8 u32 version = 1   +12 u32 count
//   +16 count x { u32 gpa; u32 size; u32 type }   types: 1 SNP_SEC_MEM, 2 SNP_SECRETS, 3 CPUID,
//                                                        4 SVSM_CAA, 0x10 SNP_KERNEL_HASHES
//
// Each entry's data must have exactly its documented length. Sections must be page aligned,
// non-empty, below 4 GiB, disjoint from each other and from the image itself; SNP_SECRETS and
// CPUID must be one page (sev-snp-measure measures one page for them whatever the size, QEMU
// the whole size: only a one-page section means the same to both). An image without the
// metadata entry has no sections, as sev-snp-measure and QEMU treat it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "measure/ovmf_table.h"

namespace cvm::measure {

inline constexpr Guid SEV_ES_RESET_BLOCK_GUID = guid("00f771de-1a7e-4fcb-890e-68c77e2fb44e");
inline constexpr Guid OVMF_SEV_METADATA_GUID = guid("dc886566-984a-4798-a75e-5585a7bf67cc");
inline constexpr Guid SEV_HASH_TABLE_RV_GUID = guid("7255371f-3a3b-4b04-927b-1da6efa8d454");
inline constexpr Guid SVSM_INFO_GUID = guid("a789a612-0597-4c4b-a49f-cbb1fe9d1ddd");

inline constexpr uint64_t GUEST_PAGE_SIZE = 4096;
inline constexpr uint64_t FOUR_GIB = 0x1'0000'0000;

// Firmware is mapped between the IO-APIC (0xFEE00000) and 4 GiB, which leaves QEMU 18 MiB
// (hw/i386/pc_sysfw.c); anything much larger is not a firmware image.
inline constexpr size_t MAX_FIRMWARE_SIZE = 32 << 20;

enum class SectionType : uint32_t {
    SnpSecMem = 1,
    SnpSecrets = 2,
    Cpuid = 3,
    SvsmCaa = 4,
    SnpKernelHashes = 0x10,
};
const char* section_type_name(SectionType t);

struct MetadataSection {
    uint32_t gpa;
    uint32_t size;
    SectionType type;
};

// SEV_HASH_TABLE_RV: where OVMF expects QEMU's table of kernel, initrd and cmdline hashes.
struct HashTableArea {
    uint32_t base;
    uint32_t size;
};

class FirmwareImage {
public:
    // Reads `path` (at most MAX_FIRMWARE_SIZE bytes) and parses it as an image that ends at
    // `end_gpa`. Errors name the file.
    static Result<FirmwareImage> load(const std::string& path, uint64_t end_gpa);
    // Parses `data` as an image ending at `end_gpa`; Errc::Format for a malformed table or
    // metadata.
    static Result<FirmwareImage> parse(Bytes data, uint64_t end_gpa);

    ByteView data() const { return m_data; }
    uint64_t gpa() const { return m_gpa; }
    const FooterTable& table() const { return m_table; }
    const std::vector<MetadataSection>& sections() const { return m_sections; }
    const MetadataSection* find_section(SectionType t) const;

    std::optional<uint32_t> sev_es_reset_eip() const { return m_reset_eip; }
    std::optional<HashTableArea> hash_table_area() const { return m_hash_table; }
    std::optional<uint32_t> svsm_entry_offset() const { return m_svsm_entry; }

private:
    Result<void> decode_entries();
    Result<void> parse_metadata(uint32_t offset_from_end);
    Result<void> check_sections() const;

    Bytes m_data;
    uint64_t m_gpa{0};
    uint64_t m_end_gpa{0};
    FooterTable m_table;
    std::vector<MetadataSection> m_sections;
    std::optional<uint32_t> m_reset_eip;
    std::optional<HashTableArea> m_hash_table;
    std::optional<uint32_t> m_svsm_entry;
};

}  // namespace cvm::measure
