#include "measure/vmsa.h"

#include "base/bytes.h"

namespace cvm::measure {

namespace {

// Offsets in the save area (APM vol. 2 table B-4).
enum SegmentOffset : size_t {
    ES = 0x000,
    CS = 0x010,
    SS = 0x020,
    DS = 0x030,
    FS = 0x040,
    GS = 0x050,
    GDTR = 0x060,
    LDTR = 0x070,
    IDTR = 0x080,
    TR = 0x090,
};
inline constexpr size_t EFER = 0x0D0;
inline constexpr size_t CR4 = 0x148;
inline constexpr size_t CR0 = 0x158;
inline constexpr size_t DR7 = 0x160;
inline constexpr size_t DR6 = 0x168;
inline constexpr size_t RFLAGS = 0x170;
inline constexpr size_t RIP = 0x178;
inline constexpr size_t G_PAT = 0x268;
inline constexpr size_t RDX = 0x310;
inline constexpr size_t SEV_FEATURES = 0x3B0;
inline constexpr size_t XCR0 = 0x3E8;
inline constexpr size_t MXCSR = 0x408;
inline constexpr size_t X87_FCW = 0x410;
static_assert(X87_FCW + 2 <= VMSA_SIZE);

inline constexpr uint64_t EFER_SVME = 0x1000;  // KVM sets EFER.SVME for SEV-ES guests
inline constexpr uint64_t CR4_MCE = 0x40;
inline constexpr uint64_t CR0_ET = 0x10;
inline constexpr uint64_t CR0_PE = 0x01;
inline constexpr uint64_t DR7_RESET = 0x400;
inline constexpr uint64_t DR6_RESET = 0xFFFF'0FF0;
inline constexpr uint64_t RFLAGS_RESET = 0x2;
inline constexpr uint64_t PAT_DEFAULT = 0x0007'0406'0007'0406;  // APM vol. 2 §A.3
inline constexpr uint64_t PAT_GCE = 0x0007'0106;
inline constexpr uint64_t XCR0_X87 = 0x1;
inline constexpr uint32_t MXCSR_RESET = 0x1F80;
inline constexpr uint16_t FCW_RESET = 0x37F;
inline constexpr uint64_t EC2_GCE_RDX = 0x600;
inline constexpr uint64_t SEV_FEATURES_SNP_ACTIVE = 0x1;

class Page {
public:
    void segment(SegmentOffset at, uint16_t selector, uint16_t attrib, uint32_t limit, uint64_t base)
    {
        m_page[at] = static_cast<uint8_t>(selector);
        m_page[at + 1] = static_cast<uint8_t>(selector >> 8);
        m_page[at + 2] = static_cast<uint8_t>(attrib);
        m_page[at + 3] = static_cast<uint8_t>(attrib >> 8);
        put_le32(&m_page[at + 4], limit);
        put_le64(&m_page[at + 8], base);
    }
    void u64(size_t at, uint64_t v) { put_le64(&m_page[at], v); }
    void u32(size_t at, uint32_t v) { put_le32(&m_page[at], v); }
    void u16(size_t at, uint16_t v)
    {
        m_page[at] = static_cast<uint8_t>(v);
        m_page[at + 1] = static_cast<uint8_t>(v >> 8);
    }
    const VmsaPage& page() const { return m_page; }

private:
    VmsaPage m_page{};
};

// The registers every vCPU here starts with.
void common_state(Page& p, uint64_t cr0)
{
    p.segment(GDTR, 0, 0, 0xFFFF, 0);
    p.segment(IDTR, 0, 0, 0xFFFF, 0);
    p.segment(LDTR, 0, 0x82, 0xFFFF, 0);
    p.u64(EFER, EFER_SVME);
    p.u64(CR4, CR4_MCE);
    p.u64(CR0, cr0);
    p.u64(DR7, DR7_RESET);
    p.u64(DR6, DR6_RESET);
    p.u64(RFLAGS, RFLAGS_RESET);
    p.u64(XCR0, XCR0_X87);
}

}  // namespace

VmsaPage build_vmsa(uint32_t eip, uint64_t sev_features, uint64_t vcpu_sig, VmmType vmm)
{
    bool qemu = vmm == VmmType::Qemu;
    bool ec2 = vmm == VmmType::Ec2;
    uint16_t cs_attrib = ec2 && eip == BSP_EIP ? 0x9A : 0x9B;
    Page p;
    common_state(p, CR0_ET);
    p.segment(ES, 0, 0x93, 0xFFFF, 0);
    p.segment(CS, 0xF000, cs_attrib, 0xFFFF, eip & 0xFFFF'0000);
    p.segment(SS, 0, ec2 ? 0x92 : 0x93, 0xFFFF, 0);
    p.segment(DS, 0, 0x93, 0xFFFF, 0);
    p.segment(FS, 0, 0x93, 0xFFFF, 0);
    p.segment(GS, 0, 0x93, 0xFFFF, 0);
    p.segment(TR, 0, ec2 ? 0x83 : 0x8B, 0xFFFF, 0);
    p.u64(RIP, eip & 0xFFFF);
    p.u64(G_PAT, vmm == VmmType::Gce ? PAT_GCE : PAT_DEFAULT);
    p.u64(RDX, qemu ? vcpu_sig : EC2_GCE_RDX);
    p.u64(SEV_FEATURES, sev_features);
    p.u32(MXCSR, qemu ? MXCSR_RESET : 0);
    p.u16(X87_FCW, qemu ? FCW_RESET : 0);
    return p.page();
}

VmsaPage build_svsm_vmsa(uint64_t rip, uint64_t vcpu_sig)
{
    Page p;
    common_state(p, CR0_ET | CR0_PE);
    p.segment(ES, 0x10, 0xC93, 0xFFFF'FFFF, 0);
    p.segment(CS, 0x08, 0xC9B, 0xFFFF'FFFF, 0);
    p.segment(SS, 0x10, 0xC93, 0xFFFF'FFFF, 0);
    p.segment(DS, 0x10, 0xC93, 0xFFFF'FFFF, 0);
    p.segment(FS, 0x10, 0xC93, 0xFFFF'FFFF, 0);
    p.segment(GS, 0, 0x93, 0xFFFF, 0);
    p.segment(TR, 0, 0x8B, 0xFFFF, 0);
    p.u64(RIP, rip);
    p.u64(G_PAT, PAT_DEFAULT);
    p.u64(RDX, vcpu_sig);
    p.u64(SEV_FEATURES, SEV_FEATURES_SNP_ACTIVE);
    p.u32(MXCSR, MXCSR_RESET);
    return p.page();
}

}  // namespace cvm::measure
