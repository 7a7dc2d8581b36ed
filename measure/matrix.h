// The SEV-SNP MEASUREMENT of one image for many VM shapes, with the image hashed once.
//
// An snp launch (snp.cc) chains PAGE_INFOs over, in order: the OVMF pages, the SEV metadata
// sections (the kernel-hashes page among them), then one VMSA per vCPU. A shape changes only:
//
//   VMM type      the metadata sections (ec2 adds CPUID last, gce SNP_SEC_MEM as UNMEASURED)
//                 and the VMSA fields (vmsa.h)
//   vCPU type     the VMSAs' RDX (QEMU; ec2 and gce put a fixed value there)
//   vCPU count    how many VMSA pages follow: the boot vCPU's, then N - 1 identical AP pages
//
// Everything costly is shape-independent and done once: reading the firmware and the SHA-384 of
// every page of it, the SHA-256 of the kernel, initrd and command line. Then once per VMM type
// the metadata sections (a few dozen PAGE_INFOs), once per VMM type and vCPU signature the two
// VMSA pages, and one walk up to the largest vCPU count of that pair, taking each requested count
// on the way. N shapes cost about one measurement, whatever N.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "measure/measure.h"

namespace cvm::measure {

struct LaunchShape {
    uint32_t vcpus{0};                 // 1..MAX_VCPUS
    std::optional<uint32_t> vcpu_sig;  // required with QEMU
    VmmType vmm{VmmType::Qemu};
};

struct Matrix {
    std::optional<crypto::Sha256Digest> ovmf_sha256;  // with Inputs::file_digests
    LaunchDigest ovmf_snp_hash{};                     // the chain after the OVMF pages
    std::optional<KernelHashes> kernel_hashes;        // with a kernel: the hashes table's contents
    std::vector<LaunchDigest> measurements;           // measurements[i] is shapes[i]'s MEASUREMENT
    double image_ms{0};   // wall time of the shape-independent part (reading and hashing the files)
    double shapes_ms{0};  // and of every shape's tail, for reports (one measurement costs both)
};

// The MEASUREMENT of every shape of the launch `in` describes (in.mode must be Mode::Snp; its
// vcpus, vcpu_sig and vmm are replaced by each shape's). measurements[i] equals
// measure(in with shapes[i]).digest byte for byte. Every shape is checked before any file is
// read: a vCPU count out of range or QEMU without a signature is Errc::Config naming the shape
// ("shape 3: ..."); Errc::Config also for another mode or no shapes; the other errors are
// measure()'s.
Result<Matrix> measure_matrix(const Inputs& in, std::span<const LaunchShape> shapes);

}  // namespace cvm::measure
