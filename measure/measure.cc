#include "measure/measure.h"

#include "measure/modes.h"

namespace cvm::measure {

namespace {

struct ModeName {
    Mode mode;
    const char* name;
    const char* title;
};

constexpr ModeName MODES[] = {
    {Mode::Snp, "snp", "SEV_SNP"},
    {Mode::SnpOvmfHash, "snp:ovmf-hash", "SEV_SNP"},
    {Mode::SnpSvsm, "snp:svsm", "SEV_SNP_SVSM"},
    {Mode::SevEs, "seves", "SEV_ES"},
    {Mode::Sev, "sev", "SEV"},
};

bool measures_vmsas(Mode m)
{
    return m == Mode::Snp || m == Mode::SnpSvsm || m == Mode::SevEs;
}

}  // namespace

Result<void> check_inputs(const Inputs& in)
{
    if (in.ovmf.empty())
        return Error::make(Errc::Config, "no firmware: an OVMF image is required");
    if (in.mode == Mode::SnpOvmfHash)
        return {};  // only the firmware matters; like sev-snp-measure, ignore the rest
    if (measures_vmsas(in.mode)) {
        if (in.vcpus < 1 || in.vcpus > MAX_VCPUS)
            return Error::make(Errc::Config, "%u vCPUs: mode %s needs 1 to %u", in.vcpus, mode_name(in.mode),
                               MAX_VCPUS);
        if (in.vmm == VmmType::Qemu && !in.vcpu_sig)
            return Error::make(Errc::Config,
                               "mode %s with QEMU needs the vCPU signature (a vCPU type, or "
                               "family/model/stepping, or the signature itself)",
                               mode_name(in.mode));
    }
    if (in.snp_ovmf_hash && in.mode != Mode::Snp)
        return Error::make(Errc::Config, "a precomputed OVMF hash only works in mode snp");
    if (!in.kernel && (in.initrd || !in.append.empty()))
        return Error::make(Errc::Config, "an initrd or a command line needs a kernel");
    if (in.mode == Mode::SnpSvsm) {
        if (in.vmm != VmmType::Qemu)
            return Error::make(Errc::Config, "mode snp:svsm is only defined for QEMU");
        if (in.svsm.empty())
            return Error::make(Errc::Config, "mode snp:svsm needs the SVSM image");
        if (in.kernel)
            return Error::make(Errc::Config, "mode snp:svsm does not measure a kernel (OVMF loads it later)");
    }
    return {};
}

std::optional<Mode> mode_from_name(std::string_view name)
{
    for (const ModeName& m : MODES) {
        if (name == m.name)
            return m.mode;
    }
    return std::nullopt;
}

const char* mode_name(Mode m)
{
    for (const ModeName& e : MODES) {
        if (e.mode == m)
            return e.name;
    }
    return "?";
}

const char* mode_title(Mode m)
{
    for (const ModeName& e : MODES) {
        if (e.mode == m)
            return e.title;
    }
    return "?";
}

Result<FirmwareImage> load_paged_image(const std::string& path, uint64_t end_gpa)
{
    FirmwareImage fw = TRY(FirmwareImage::load(path, end_gpa));
    if (fw.data().size() % GUEST_PAGE_SIZE != 0)
        return Error::make(Errc::Format, "%s: %zu bytes is not a whole number of 4 KiB pages, which SNP measures",
                           path.c_str(), fw.data().size());
    return fw;
}

Result<HashTableArea> kernel_hashes_area(const FirmwareImage& fw)
{
    auto area = fw.hash_table_area();
    if (!area || area->base == 0 || area->size < PADDED_SEV_HASH_TABLE_SIZE)
        return Error::make(Errc::Unsupported,
                           "the firmware has no kernel-hashes table (SEV_HASH_TABLE_RV %s), so it cannot measure a "
                           "kernel: use an AmdSev OVMF build",
                           area ? "area too small or at 0" : "entry missing");
    return *area;
}

Result<uint32_t> ap_reset_eip(const FirmwareImage& fw, uint32_t vcpus)
{
    auto eip = fw.sev_es_reset_eip();
    if (!eip)
        return Error::make(
            Errc::Unsupported,
            "the firmware has no SEV-ES reset block (OVMF footer table entry %s): not an SEV-capable OVMF",
            to_string(SEV_ES_RESET_BLOCK_GUID).c_str());
    if (*eip == 0 && vcpus > 1)
        return Error::make(Errc::Format, "the firmware's SEV-ES reset block gives AP reset address 0");
    return *eip;
}

Result<Measurement> measure(const Inputs& in)
{
    TRY(check_inputs(in));
    switch (in.mode) {
    case Mode::Snp:
    case Mode::SnpOvmfHash: return measure_snp(in);
    case Mode::SnpSvsm: return measure_svsm(in);
    case Mode::SevEs:
    case Mode::Sev: return measure_sev(in);
    }
    return Error::make(Errc::Config, "unknown mode");
}

}  // namespace cvm::measure
