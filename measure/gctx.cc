#include "measure/gctx.h"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace cvm::measure {

namespace {

inline constexpr size_t PAGE = 4096;
const crypto::Sha384Digest NO_CONTENTS{};

void require_whole_pages(uint64_t length)
{
    if (length % PAGE != 0)
        abort();
}

}  // namespace

void Gctx::update(PageType type, uint64_t gpa, const crypto::Sha384Digest& contents)
{
    uint8_t info[PAGE_INFO_SIZE] = {};
    memcpy(info + 0x00, m_ld.data(), m_ld.size());
    memcpy(info + 0x30, contents.data(), contents.size());
    info[0x60] = PAGE_INFO_SIZE & 0xff;
    info[0x61] = PAGE_INFO_SIZE >> 8;
    info[0x62] = static_cast<uint8_t>(type);
    // 0x63 IMI_PAGE, 0x64..0x66 VMPL permissions and 0x67 stay zero.
    put_le64(info + 0x68, gpa);
    m_ld = crypto::Sha384::of(info);
}

void Gctx::update_normal_pages(uint64_t gpa, ByteView data)
{
    require_whole_pages(data.size());
    // The page digests are independent: hash them several at a time (SIMD lanes), then chain.
    std::vector<crypto::Sha384Digest> digests = crypto::sha384_pages(data, PAGE);
    for (size_t i = 0; i < digests.size(); ++i)
        update(PageType::Normal, gpa + i * PAGE, digests[i]);
}

void Gctx::update_vmsa_page(const crypto::Sha384Digest& page_digest)
{
    update(PageType::Vmsa, VMSA_GPA, page_digest);
}

void Gctx::update_empty_pages(PageType type, uint64_t gpa, uint64_t length)
{
    require_whole_pages(length);
    for (uint64_t offset = 0; offset < length; offset += PAGE)
        update(type, gpa + offset, NO_CONTENTS);
}

void Gctx::update_zero_pages(uint64_t gpa, uint64_t length)
{
    update_empty_pages(PageType::Zero, gpa, length);
}

void Gctx::update_unmeasured_pages(uint64_t gpa, uint64_t length)
{
    update_empty_pages(PageType::Unmeasured, gpa, length);
}

void Gctx::update_secrets_page(uint64_t gpa)
{
    update(PageType::Secrets, gpa, NO_CONTENTS);
}

void Gctx::update_cpuid_page(uint64_t gpa)
{
    update(PageType::Cpuid, gpa, NO_CONTENTS);
}

}  // namespace cvm::measure
