// The PAGE_INFO chain, the VMSA pages and the vCPU signatures, against values from the
// reference tool (its fixture and its dumped VMSA pages, ../shared/reference/measure.md §4.3).
#include <doctest.h>

#include "measure/gctx.h"
#include "measure/vcpu_types.h"
#include "measure/vmsa.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::measure;

namespace {

std::string sha384_hex(const VmsaPage& page)
{
    return to_hex(crypto::Sha384::of(page));
}

uint64_t word(const VmsaPage& page, size_t offset)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i)
        v |= uint64_t(page[offset + i]) << (8 * i);
    return v;
}

}  // namespace

TEST_CASE("the OVMF pages of the AmdSev fixture give sev-snp-measure's ovmf hash")
{
    Gctx gctx;
    gctx.update_normal_pages(0xFFFFF000, test::read_vector("measure/ovmf_AmdSev_suffix.bin"));
    CHECK(to_hex(gctx.ld()) ==
          "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74");
}

TEST_CASE("PAGE_INFO: each page type and GPA changes the digest; the chain depends on order")
{
    Gctx a, b, c;
    a.update_zero_pages(0x800000, 0x1000);
    b.update_unmeasured_pages(0x800000, 0x1000);
    c.update_zero_pages(0x801000, 0x1000);
    CHECK(a.ld() != b.ld());
    CHECK(a.ld() != c.ld());
    Gctx one, two;
    one.update_secrets_page(0x1000);
    one.update_cpuid_page(0x2000);
    two.update_cpuid_page(0x2000);
    two.update_secrets_page(0x1000);
    CHECK(one.ld() != two.ld());
    // Two pages at once are two single-page updates.
    Gctx whole, pieces;
    whole.update_zero_pages(0x800000, 0x2000);
    pieces.update_zero_pages(0x800000, 0x1000);
    pieces.update_zero_pages(0x801000, 0x1000);
    CHECK(whole.ld() == pieces.ld());
}

TEST_CASE("PAGE_INFO layout: a ZERO page from the zero digest")
{
    // Built by hand from ABI 56860's PAGE_INFO table, independently of gctx.cc.
    uint8_t info[0x70] = {};
    info[0x60] = 0x70;
    info[0x62] = 3;
    put_le64(info + 0x68, 0x800000);
    Gctx gctx;
    gctx.update_zero_pages(0x800000, 0x1000);
    CHECK(gctx.ld() == crypto::Sha384::of(info));
}

TEST_CASE("VMSA pages match the reference tool's dumps")
{
    const uint32_t ap = 0x80b004, sig = 0x800f12;
    CHECK(sha384_hex(build_vmsa(BSP_EIP, 1, sig, VmmType::Qemu)) ==
          "77920c4c629ff47e90c0e174fc1ad0eb6fa664f88cd4739488058a8c6cb1a77b3856f55378e9518d0da99452d51c553a");
    CHECK(sha384_hex(build_vmsa(ap, 1, sig, VmmType::Qemu)) ==
          "8413b852790765a310d95867a8b00bfca3a802b5a80830044b45e253fe96222657e11e53fcf63eb0e0afd722385bf7b4");
    CHECK(sha384_hex(build_vmsa(BSP_EIP, 1, sig, VmmType::Ec2)) ==
          "d08442e8bcdb6a5dcd7f22e4f7fd6979beffb9f0bb54a9d1977407fe84f482abf23c1baae6ce95a6a9e7a94c3c51f412");
    CHECK(sha384_hex(build_vmsa(ap, 1, sig, VmmType::Ec2)) ==
          "acff2d22db95b8eb82272d844aa2ad1f8f84218ccbab003697acade12228a6e901256e160d41713c22fed92e0a1ed0e1");
    CHECK(sha384_hex(build_vmsa(BSP_EIP, 1, sig, VmmType::Gce)) ==
          "f9e03177dad7f4819ee193af7cfb70507d8a923ab513412e908bc73460a9dfdaa54215d58952816118ffb2ec281e7fd2");
    CHECK(sha384_hex(build_vmsa(ap, 1, sig, VmmType::Gce)) ==
          "5302d262c88780a7a13159a327fa99cf188cab234c680e1f3b6729171380a4312511813a354cab136d69c778050c245a");
    CHECK(sha384_hex(build_vmsa(BSP_EIP, 0, sig, VmmType::Qemu)) ==
          "69c94ea0886388820b7d37645642a46a4751bf5209f779d6a05337d11698a66cb6021b9aeacaad1bb92475944344f6f8");
    CHECK(sha384_hex(build_vmsa(ap, 0, sig, VmmType::Qemu)) ==
          "a52df2d2d024af9fb93e90d37da535b16d44596692a50fba4d31e97eeb13c2eeba039c0c1e0b478316c233d9e97867dc");
}

TEST_CASE("VMSA fields at their APM table B-4 offsets")
{
    VmsaPage bsp = build_vmsa(BSP_EIP, 0x21, 0xa00f11, VmmType::Qemu);
    CHECK(word(bsp, 0x010) == 0x0000ffff009bf000);  // CS: selector 0xf000, attrib 0x9b, limit 0xffff
    CHECK(word(bsp, 0x018) == 0xffff0000);          // CS base
    CHECK(word(bsp, 0x178) == 0xfff0);              // RIP
    CHECK(word(bsp, 0x310) == 0xa00f11);            // RDX
    CHECK(word(bsp, 0x3b0) == 0x21);                // SEV_FEATURES
    CHECK(word(bsp, 0x408) == 0x1f80);              // MXCSR
    CHECK(word(bsp, 0x410) == 0x37f);               // X87_FCW
    VmsaPage svsm = build_svsm_vmsa(0xffaea000, 0x800f12);
    CHECK(word(svsm, 0x010) == 0xffffffff0c9b0008);  // flat 32-bit code segment
    CHECK(word(svsm, 0x158) == 0x11);                // CR0: ET | PE
    CHECK(word(svsm, 0x178) == 0xffaea000);
    CHECK(word(svsm, 0x3b0) == 1);
    CHECK(word(svsm, 0x408) == 0x1f80);
    CHECK(word(svsm, 0x410) == 0);  // X87_FCW stays 0, as in sev-snp-measure
}

TEST_CASE("vCPU signatures")
{
    CHECK(cpu_sig(14, 1, 2).value() == 0x0e12);
    CHECK(cpu_sig(23, 1, 2).value() == 0x800f12);
    CHECK(cpu_sig(MAX_CPU_FAMILY, MAX_CPU_MODEL, MAX_CPU_STEPPING).value() == 0x0fff0fff);
    CHECK_FALSE(cpu_sig(MAX_CPU_FAMILY + 1, 0, 0).ok());
    CHECK_FALSE(cpu_sig(25, 256, 0).ok());
    CHECK_FALSE(cpu_sig(25, 1, 16).ok());
    CHECK(vcpu_types().size() == 16);
    CHECK(vcpu_type_sig("EPYC") == 0x800f12u);
    CHECK(vcpu_type_sig("EPYC-IBPB") == 0x800f12u);
    CHECK(vcpu_type_sig("EPYC-Rome-v3") == 0x830f10u);
    CHECK(vcpu_type_sig("EPYC-Milan-v2") == 0xa00f11u);
    CHECK(vcpu_type_sig("EPYC-Genoa-v1") == 0xa10f10u);
    CHECK(vcpu_type_sig("EPYC-Turin") == 0xb00f00u);
    CHECK_FALSE(vcpu_type_sig("epyc-v4"));
    CHECK_FALSE(vcpu_type_sig("EPYC-Genoa-v2"));
}
