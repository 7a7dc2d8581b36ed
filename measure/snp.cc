// snp and snp:ovmf-hash: the order in which QEMU and KVM add pages to an SNP launch.
//
//   1. the whole OVMF image as NORMAL pages at 4 GiB - size      (QEMU at machine init)
//   2. each SEV metadata section, in file order                  (QEMU at launch finish,
//      SNP_SEC_MEM -> ZERO (gce: UNMEASURED), SNP_SECRETS ->      snp_populate_metadata_pages)
//      one SECRETS page, CPUID -> one CPUID page (ec2: after all
//      other sections), SVSM_CAA -> ZERO, SNP_KERNEL_HASHES ->
//      the hashes page as NORMAL with a kernel, else ZERO
//   3. one VMSA per vCPU, the boot vCPU first                    (KVM SNP_LAUNCH_FINISH)
//
// Only the VMM type (step 2's choices, the VMSA fields), the vCPU signature and the vCPU count
// differ between shapes of one image: prepare_snp() does the rest once (modes.h, matrix.h).
#include "measure/modes.h"

namespace cvm::measure {

namespace {

// The offset of the hashes table in the SNP_KERNEL_HASHES page, after checking that the
// firmware can take a kernel at all.
Result<size_t> kernel_hashes_page_offset(const FirmwareImage& fw)
{
    const MetadataSection* section = fw.find_section(SectionType::SnpKernelHashes);
    if (!section)
        return Error::make(Errc::Unsupported,
                           "the firmware has no kernel-hashes section (SNP_KERNEL_HASHES in its SEV metadata), so "
                           "it cannot measure a kernel: use an AmdSev OVMF build");
    for (const MetadataSection& s : fw.sections()) {
        if (s.type == SectionType::SnpKernelHashes && s.size != GUEST_PAGE_SIZE)
            return Error::make(Errc::Format, "the SNP_KERNEL_HASHES section at 0x%x is 0x%x bytes, expected one page",
                               s.gpa, s.size);
    }
    HashTableArea area = TRY(kernel_hashes_area(fw));
    size_t offset = area.base % GUEST_PAGE_SIZE;
    if (offset + PADDED_SEV_HASH_TABLE_SIZE > GUEST_PAGE_SIZE)
        return Error::make(Errc::Format, "the kernel-hashes table at 0x%x crosses a page boundary", area.base);
    return offset;
}

}  // namespace

void update_metadata_pages(Gctx& gctx, const FirmwareImage& fw, const KernelHashes* hashes, size_t table_offset,
                           VmmType vmm)
{
    for (const MetadataSection& s : fw.sections()) {
        switch (s.type) {
        case SectionType::SnpSecMem:
            if (vmm == VmmType::Gce)
                gctx.update_unmeasured_pages(s.gpa, s.size);
            else
                gctx.update_zero_pages(s.gpa, s.size);
            break;
        case SectionType::SnpSecrets: gctx.update_secrets_page(s.gpa); break;
        case SectionType::Cpuid:
            if (vmm != VmmType::Ec2)
                gctx.update_cpuid_page(s.gpa);
            break;
        case SectionType::SvsmCaa: gctx.update_zero_pages(s.gpa, s.size); break;
        case SectionType::SnpKernelHashes:
            if (hashes)
                gctx.update_normal_pages(s.gpa, build_sev_hashes_page(*hashes, table_offset));
            else
                gctx.update_zero_pages(s.gpa, s.size);
            break;
        }
    }
    if (vmm == VmmType::Ec2) {
        for (const MetadataSection& s : fw.sections()) {
            if (s.type == SectionType::Cpuid)
                gctx.update_cpuid_page(s.gpa);
        }
    }
}

Result<SnpImage> prepare_snp(const Inputs& in, uint32_t max_vcpus)
{
    SnpImage image;
    image.ovmf = TRY(load_paged_image(in.ovmf, FOUR_GIB));
    const FirmwareImage& ovmf = image.ovmf;
    if (in.file_digests)
        image.ovmf_sha256 = crypto::Sha256::of(ovmf.data());

    // snp:ovmf-hash computes what --snp-ovmf-hash stands for, so it never starts from one.
    bool seeded = in.mode == Mode::Snp && in.snp_ovmf_hash;
    Gctx gctx(seeded ? *in.snp_ovmf_hash : LaunchDigest{});
    if (!seeded)
        gctx.update_normal_pages(ovmf.gpa(), ovmf.data());
    image.ovmf_snp_hash = gctx.ld();
    if (in.mode == Mode::SnpOvmfHash)
        return image;

    auto with_path = [&](Error e) { return e.prefix("%s", in.ovmf.c_str()); };
    auto eip = ap_reset_eip(ovmf, max_vcpus);
    if (!eip.ok())
        return with_path(eip.release_error());
    image.ap_eip = eip.value();
    if (in.kernel) {
        auto offset = kernel_hashes_page_offset(ovmf);
        if (!offset.ok())
            return with_path(offset.release_error());
        image.table_offset = offset.value();
        image.kernel_hashes = TRY(hash_kernel_inputs(*in.kernel, in.initrd, in.append));
    }
    return image;
}

Gctx snp_metadata_chain(const SnpImage& image, VmmType vmm)
{
    Gctx gctx(image.ovmf_snp_hash);
    update_metadata_pages(gctx, image.ovmf, image.kernel_hashes ? &*image.kernel_hashes : nullptr, image.table_offset,
                          vmm);
    return gctx;
}

std::array<VmsaPage, 2> snp_vmsa_pages(const SnpImage& image, uint64_t guest_features, uint64_t vcpu_sig, VmmType vmm)
{
    return {build_vmsa(BSP_EIP, guest_features, vcpu_sig, vmm),
            build_vmsa(image.ap_eip, guest_features, vcpu_sig, vmm)};
}

Result<Measurement> measure_snp(const Inputs& in)
{
    SnpImage image = TRY(prepare_snp(in, in.vcpus));
    Measurement m;
    m.mode = in.mode;
    m.ovmf_sha256 = image.ovmf_sha256;
    m.ovmf_snp_hash = image.ovmf_snp_hash;
    if (in.mode == Mode::SnpOvmfHash) {
        m.digest.assign(image.ovmf_snp_hash.begin(), image.ovmf_snp_hash.end());
        return m;
    }
    m.kernel_hashes = image.kernel_hashes;
    Gctx gctx = snp_metadata_chain(image, in.vmm);

    std::array<VmsaPage, 2> pages = snp_vmsa_pages(image, in.guest_features, in.vcpu_sig.value_or(0), in.vmm);
    m.vmsas.push_back(pages[0]);
    if (in.vcpus > 1)
        m.vmsas.push_back(pages[1]);
    const crypto::Sha384Digest page_digests[2] = {crypto::Sha384::of(pages[0]), crypto::Sha384::of(pages[1])};
    for (uint32_t i = 0; i < in.vcpus; ++i)
        gctx.update_vmsa_page(page_digests[i == 0 ? 0 : 1]);
    m.digest.assign(gctx.ld().begin(), gctx.ld().end());
    return m;
}

}  // namespace cvm::measure
