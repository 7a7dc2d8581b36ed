// The modes behind measure() (measure.h), and what they share. Internal to measure/.
#pragma once

#include "measure/measure.h"
#include "measure/ovmf.h"

namespace cvm::measure {

// Checks `in` as measure() does before reading a file (measure.cc).
Result<void> check_inputs(const Inputs& in);

// snp and snp:ovmf-hash (snp.cc).
Result<Measurement> measure_snp(const Inputs& in);

// The part of an snp launch that every shape shares (snp.cc's steps 1 and 2 without the VMM's
// choices): the firmware read once and its pages hashed (or the precomputed seed), the AP reset
// address, and the kernel, initrd and command line hashed once. measure_snp() and
// measure_matrix() (matrix.h) both finish from it, so one launch gives one digest either way.
struct SnpImage {
    FirmwareImage ovmf;
    std::optional<crypto::Sha256Digest> ovmf_sha256;  // with Inputs::file_digests
    LaunchDigest ovmf_snp_hash{};                     // the chain after the OVMF pages
    uint32_t ap_eip{0};
    std::optional<KernelHashes> kernel_hashes;
    size_t table_offset{0};  // of the hashes table in the SNP_KERNEL_HASHES page
};

// Reads and hashes what `in` names (in.vcpus, vcpu_sig and vmm are not used). For
// Mode::SnpOvmfHash it stops after the OVMF pages. An AP reset address of 0 is refused when
// `max_vcpus` > 1, the largest vCPU count to be measured from this image. Errors name the file.
Result<SnpImage> prepare_snp(const Inputs& in, uint32_t max_vcpus);

// The chain after the OVMF pages and the SEV metadata sections as `vmm` adds them.
Gctx snp_metadata_chain(const SnpImage& image, VmmType vmm);

// The VMSA pages of a shape: [0] the boot vCPU's, [1] every other vCPU's.
std::array<VmsaPage, 2> snp_vmsa_pages(const SnpImage& image, uint64_t guest_features, uint64_t vcpu_sig, VmmType vmm);
// snp:svsm (svsm.cc).
Result<Measurement> measure_svsm(const Inputs& in);
// seves and sev (sev.cc).
Result<Measurement> measure_sev(const Inputs& in);

// Loads an image to be measured page by page: its size must be a whole number of pages.
Result<FirmwareImage> load_paged_image(const std::string& path, uint64_t end_gpa);

// The SEV_HASH_TABLE_RV area the firmware offers for the kernel hashes; QEMU refuses a kernel
// when the entry is missing, its base is 0 or it is smaller than the padded table.
Result<HashTableArea> kernel_hashes_area(const FirmwareImage& fw);

// The AP reset address from the SEV-ES reset block, which every VMSA-measuring mode needs
// (only vCPUs beyond the first use it, but sev-snp-measure requires the entry regardless).
Result<uint32_t> ap_reset_eip(const FirmwareImage& fw, uint32_t vcpus);

// Adds the SEV metadata sections of `fw` in file order as `vmm` does (snp.cc). With `hashes`,
// SNP_KERNEL_HASHES sections get the hashes page with the table at `table_offset`.
void update_metadata_pages(Gctx& gctx, const FirmwareImage& fw, const KernelHashes* hashes, size_t table_offset,
                           VmmType vmm);

}  // namespace cvm::measure
