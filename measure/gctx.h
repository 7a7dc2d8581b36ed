// Gctx: the SEV-SNP launch digest, extended one 4 KiB page at a time.
//
// For every page the VMM adds with SNP_LAUNCH_UPDATE (and every VMSA at SNP_LAUNCH_FINISH) the
// PSP replaces the digest with SHA-384 of a PAGE_INFO structure (AMD SEV Secure Nested Paging
// Firmware ABI Specification, publication 56860, SNP_LAUNCH_UPDATE, "PAGE_INFO"; the table
// sev-snp-measure cites as "SNP spec 8.17.2 Table 67"), 0x70 bytes, little-endian:
//
//   0x00  DIGEST_CUR[48]   the digest so far (48 zero bytes at LAUNCH_START)
//   0x30  CONTENTS[48]     SHA-384 of the page for NORMAL and VMSA pages, else zero
//   0x60  u16 LENGTH       0x70
//   0x62  u8  PAGE_TYPE    1 NORMAL, 2 VMSA, 3 ZERO, 4 UNMEASURED, 5 SECRETS, 6 CPUID
//   0x63  u8  IMI_PAGE     0      0x64..0x66  VMPL3/2/1_PERMS = 0      0x67 reserved
//   0x68  u64 GPA
//
// The final digest is the report's MEASUREMENT. Callers pass page-aligned runs; lengths that
// are not whole pages are a programming error (checked, aborts).
#pragma once

#include "crypto/digest.h"

namespace cvm::measure {

using LaunchDigest = crypto::Sha384Digest;

enum class PageType : uint8_t {
    Normal = 1,
    Vmsa = 2,
    Zero = 3,
    Unmeasured = 4,
    Secrets = 5,
    Cpuid = 6,
};

inline constexpr size_t PAGE_INFO_SIZE = 0x70;

// Every VMSA is measured at this GPA: KVM's INITIAL_VMSA_GPA (arch/x86/kvm/svm/sev.c), "GPA -1,
// page aligned, truncated to 48 bits".
inline constexpr uint64_t VMSA_GPA = 0xFFFF'FFFF'F000;

class Gctx {
public:
    Gctx() = default;
    // Starts from a digest computed earlier (sev-snp-measure's --snp-ovmf-hash).
    explicit Gctx(const LaunchDigest& seed) : m_ld(seed) {}

    const LaunchDigest& ld() const { return m_ld; }

    // NORMAL pages with the contents of `data` (a whole number of pages) from `gpa` upwards.
    void update_normal_pages(uint64_t gpa, ByteView data);
    // One VMSA page, given the SHA-384 of its 4096 bytes.
    void update_vmsa_page(const crypto::Sha384Digest& page_digest);
    void update_zero_pages(uint64_t gpa, uint64_t length);
    void update_unmeasured_pages(uint64_t gpa, uint64_t length);
    void update_secrets_page(uint64_t gpa);
    void update_cpuid_page(uint64_t gpa);

private:
    void update(PageType type, uint64_t gpa, const crypto::Sha384Digest& contents);
    void update_empty_pages(PageType type, uint64_t gpa, uint64_t length);

    LaunchDigest m_ld{};
};

}  // namespace cvm::measure
