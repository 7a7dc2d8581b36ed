// measure: the launch digest a correct launch must produce, byte-exact with sev-snp-measure
// 0.0.13 (virtee) for every input both accept.
//
//   snp             SEV-SNP MEASUREMENT (48 bytes): the PAGE_INFO chain (gctx.h) over the OVMF
//                   image mapped below 4 GiB, its SEV metadata sections (the kernel-hashes page
//                   when a kernel is given), then one VMSA per vCPU
//   snp:ovmf-hash   the same chain after the OVMF pages only: a seed for --snp-ovmf-hash
//   snp:svsm        OVMF, then a COCONUT-SVSM image below OVMF and its variable store, the
//                   SVSM's metadata sections, one SVSM VMSA per vCPU (QEMU only)
//   seves           SEV-ES launch digest (32 bytes): SHA-256 of OVMF, the padded hashes table
//                   when a kernel is given, and every VMSA
//   sev             SEV launch digest: SHA-256 of OVMF and the padded hashes table
//
// (SEV and SEV-ES report an HMAC over this digest, keyed by the TIK; computing that is the
// guest owner's business, as with the reference tool.)
//
// Kernel and initrd are hashed in chunks, never loaded whole; the firmware images are read
// whole, bounded by MAX_FIRMWARE_SIZE. Every file is read once per call.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "measure/gctx.h"
#include "measure/sev_hashes.h"
#include "measure/vmm.h"
#include "measure/vmsa.h"

namespace cvm::measure {

enum class Mode { Snp, SnpOvmfHash, SnpSvsm, SevEs, Sev };

// The --mode spellings: "snp", "snp:ovmf-hash", "snp:svsm", "seves", "sev".
std::optional<Mode> mode_from_name(std::string_view name);
const char* mode_name(Mode m);
// sev-snp-measure's names in its verbose output: SEV_SNP, SEV_SNP_SVSM, SEV_ES, SEV.
const char* mode_title(Mode m);

// QEMU's q35 machine allows 4096 vCPUs; a count beyond that is a mistake, not a launch.
inline constexpr uint32_t MAX_VCPUS = 4096;

struct Inputs {
    Mode mode{Mode::Snp};
    uint32_t vcpus{0};                 // snp, snp:svsm, seves: 1..MAX_VCPUS
    std::optional<uint32_t> vcpu_sig;  // RDX of the VMSAs; required with QEMU (not for sev)
    VmmType vmm{VmmType::Qemu};
    uint64_t guest_features{0x1};  // SEV_FEATURES of the snp VMSAs (0x1: SNPActive)
    std::string ovmf;
    std::optional<std::string> kernel;
    std::optional<std::string> initrd;          // only with a kernel
    std::string append;                         // kernel command line, "" for none; only with a kernel
    std::optional<LaunchDigest> snp_ovmf_hash;  // snp only: start from this instead of hashing OVMF
    std::string svsm;                           // snp:svsm
    uint64_t vars_size{0};                      // snp:svsm: the OVMF variable store between the two
    bool file_digests{false};  // also take the SHA-256 of the firmware (and SVSM) files, for the record
};

struct Measurement {
    Mode mode{Mode::Snp};
    Bytes digest;                                     // 48 bytes for the snp modes, 32 for seves and sev
    std::optional<crypto::Sha256Digest> ovmf_sha256;  // with Inputs::file_digests
    std::optional<LaunchDigest> ovmf_snp_hash;        // snp modes: the digest after the OVMF pages
    std::optional<KernelHashes> kernel_hashes;        // with a kernel: what the hashes table holds
    std::optional<crypto::Sha256Digest> svsm_sha256;  // with Inputs::file_digests, snp:svsm
    std::vector<VmsaPage> vmsas;                      // the distinct VMSA pages: BSP then AP, or the SVSM one

    // The VMSA page of vCPU `index` (< the vCPU count measured).
    const VmsaPage& vmsa_for(uint32_t index) const { return vmsas[index < vmsas.size() ? index : vmsas.size() - 1]; }
};

// Errc::Config for inconsistent inputs, Errc::Format/Unsupported for firmware or kernel files
// that do not support the requested launch (naming the file and the missing piece), Errc::Io
// for unreadable files.
Result<Measurement> measure(const Inputs& in);

}  // namespace cvm::measure
