// snp:svsm: an SNP launch of COCONUT-SVSM under QEMU (coconut-svsm/qemu, target/i386/sev.c).
//
// QEMU maps OVMF at 4 GiB - its size, the OVMF variable store below it, and the SVSM image
// below that. Both images are measured as NORMAL pages (OVMF first), then the SVSM image's own
// SEV metadata sections (never OVMF's, and never a kernel), then one identical VMSA per vCPU,
// each entering the SVSM at its SVSM_INFO entry offset plus its load address.
#include "measure/modes.h"

namespace cvm::measure {

Result<Measurement> measure_svsm(const Inputs& in)
{
    FirmwareImage ovmf = TRY(load_paged_image(in.ovmf, FOUR_GIB));
    if (in.vars_size % GUEST_PAGE_SIZE != 0 || in.vars_size > ovmf.gpa())
        return Error::make(Errc::Config, "OVMF variable store size 0x%llx: expected whole 4 KiB pages below OVMF",
                           static_cast<unsigned long long>(in.vars_size));
    FirmwareImage svsm = TRY(load_paged_image(in.svsm, ovmf.gpa() - in.vars_size));
    auto entry = svsm.svsm_entry_offset();
    if (!entry)
        return Error::make(Errc::Unsupported, "%s: no SVSM info entry (%s) in its OVMF footer table: not an SVSM image",
                           in.svsm.c_str(), to_string(SVSM_INFO_GUID).c_str());

    Measurement m;
    m.mode = in.mode;
    if (in.file_digests) {
        m.ovmf_sha256 = crypto::Sha256::of(ovmf.data());
        m.svsm_sha256 = crypto::Sha256::of(svsm.data());
    }

    Gctx gctx;
    gctx.update_normal_pages(ovmf.gpa(), ovmf.data());
    m.ovmf_snp_hash = gctx.ld();
    gctx.update_normal_pages(svsm.gpa(), svsm.data());
    update_metadata_pages(gctx, svsm, nullptr, 0, VmmType::Qemu);

    m.vmsas.push_back(build_svsm_vmsa(svsm.gpa() + *entry, in.vcpu_sig.value_or(0)));
    crypto::Sha384Digest page_digest = crypto::Sha384::of(m.vmsas[0]);
    for (uint32_t i = 0; i < in.vcpus; ++i)
        gctx.update_vmsa_page(page_digest);
    m.digest.assign(gctx.ld().begin(), gctx.ld().end());
    return m;
}

}  // namespace cvm::measure
