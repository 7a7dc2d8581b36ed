// The modes behind measure() (measure.h), and what they share. Internal to measure/.
#pragma once

#include "measure/measure.h"
#include "measure/ovmf.h"

namespace cvm::measure {

// snp and snp:ovmf-hash (snp.cc).
Result<Measurement> measure_snp(const Inputs& in);
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
