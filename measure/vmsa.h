// The initial VMSA of each vCPU: the SEV-ES save area the PSP measures as a VMSA page.
//
// Layout: AMD64 Architecture Programmer's Manual vol. 2, appendix B, table B-4 "VMSA Layout,
// State Save Area for SEV-ES" (Linux `struct sev_es_save_area`). Only these fields are ever
// non-zero here; every other byte of the 4 KiB page is zero:
//
//   0x000 ES  0x010 CS  0x020 SS  0x030 DS  0x040 FS  0x050 GS  0x060 GDTR  0x070 LDTR
//   0x080 IDTR  0x090 TR        segments: u16 selector, u16 attrib, u32 limit, u64 base
//   0x0D0 EFER  0x148 CR4  0x158 CR0  0x160 DR7  0x168 DR6  0x170 RFLAGS  0x178 RIP
//   0x268 G_PAT  0x310 RDX  0x3B0 SEV_FEATURES  0x3E8 XCR0                 (u64 each)
//   0x408 MXCSR (u32)  0x410 X87_FCW (u16)
//
// The values are what KVM and each VMM set at reset (the real-mode reset state: CS base from
// the reset address, RIP its low 16 bits), as sev-snp-measure 0.0.13 encodes them:
//
//   field        QEMU            ec2                       gce
//   CS attrib    0x9b            0x9a for the BSP, else 9b  0x9b
//   SS attrib    0x93            0x92                      0x93
//   TR attrib    0x8b            0x83                      0x8b
//   G_PAT        0x0007040600070406 (all but gce)          0x00070106
//   RDX          the vCPU signature  0x600                 0x600
//   MXCSR/FCW    0x1f80 / 0x37f  0 / 0                     0 / 0
//
// COCONUT-SVSM's vCPUs start in its 32-bit entry point instead (build_svsm_vmsa).
#pragma once

#include <array>
#include <cstdint>

#include "measure/vmm.h"

namespace cvm::measure {

inline constexpr size_t VMSA_SIZE = 4096;
using VmsaPage = std::array<uint8_t, VMSA_SIZE>;

// The BSP starts at the reset vector; APs at the SEV-ES reset block's address.
inline constexpr uint32_t BSP_EIP = 0xFFFF'FFF0;

// The VMSA of a vCPU that starts at `eip` (real mode, CS = eip & 0xffff0000, IP = eip & 0xffff).
VmsaPage build_vmsa(uint32_t eip, uint64_t sev_features, uint64_t vcpu_sig, VmmType vmm);

// The VMSA of a vCPU entering COCONUT-SVSM at `rip` in 32-bit protected mode (flat CS 0x8, data
// 0x10, CR0.PE). SEV_FEATURES is SNPActive only. X87_FCW stays 0: sev-snp-measure passes it
// under a name its structure does not have, so the value never reaches the page, and its
// published SVSM digests (taken from real launches) include that.
VmsaPage build_svsm_vmsa(uint64_t rip, uint64_t vcpu_sig);

}  // namespace cvm::measure
