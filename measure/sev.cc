// seves and sev: the legacy launch digests, a single SHA-256 over what LAUNCH_UPDATE_DATA and
// LAUNCH_UPDATE_VMSA encrypt, in QEMU's order: the OVMF image, the padded kernel-hashes table
// (QEMU encrypts the table's area separately, after the flash), then (SEV-ES) each VMSA with
// SEV_FEATURES 0, the boot vCPU first.
#include "measure/modes.h"

namespace cvm::measure {

Result<Measurement> measure_sev(const Inputs& in)
{
    FirmwareImage ovmf = TRY(FirmwareImage::load(in.ovmf, FOUR_GIB));
    auto with_path = [&](Error e) { return e.prefix("%s", in.ovmf.c_str()); };
    Measurement m;
    m.mode = in.mode;
    if (in.file_digests)
        m.ovmf_sha256 = crypto::Sha256::of(ovmf.data());

    uint32_t eip = 0;
    if (in.mode == Mode::SevEs) {
        auto reset = ap_reset_eip(ovmf, in.vcpus);
        if (!reset.ok())
            return with_path(reset.release_error());
        eip = reset.value();
    }
    if (in.kernel) {
        auto area = kernel_hashes_area(ovmf);
        if (!area.ok())
            return with_path(area.release_error());
        m.kernel_hashes = TRY(hash_kernel_inputs(*in.kernel, in.initrd, in.append));
    }

    crypto::Sha256 ld;
    ld.update(ovmf.data());
    if (m.kernel_hashes)
        ld.update(build_sev_hash_table(*m.kernel_hashes));
    if (in.mode == Mode::SevEs) {
        uint64_t sig = in.vcpu_sig.value_or(0);
        m.vmsas.push_back(build_vmsa(BSP_EIP, 0, sig, in.vmm));
        if (in.vcpus > 1)
            m.vmsas.push_back(build_vmsa(eip, 0, sig, in.vmm));
        for (uint32_t i = 0; i < in.vcpus; ++i)
            ld.update(m.vmsa_for(i));
    }
    crypto::Sha256Digest digest = ld.finish();
    m.digest.assign(digest.begin(), digest.end());
    return m;
}

}  // namespace cvm::measure
