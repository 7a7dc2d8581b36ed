#include "providers/report_provider_sim.h"

#include <sys/stat.h>

#include "providers/evidence_check.h"
#include "sim/fw_cfg.h"

namespace cvm::agent {

namespace {

bool is_directory(const std::string& path)
{
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Result<std::unique_ptr<SimulatedProvider>> SimulatedProvider::load(const std::string& fw_cfg_root)
{
    // Say why the blobs are missing before naming one: the driver's directory comes from the
    // qemu_fw_cfg module, the blobs under it from the host's command line.
    std::string module_dir = fw_cfg_root.substr(0, fw_cfg_root.find_last_of('/'));
    if (!is_directory(module_dir))
        return Error::make(Errc::Config,
                           "simulated PSP: %s does not exist: the qemu_fw_cfg module is not loaded (build the "
                           "initramfs with `cvm initramfs --platform sim` or `--module qemu_fw_cfg`)",
                           module_dir.c_str());
    std::string sim_dir = fw_cfg_root + "/" + std::string(sim::FW_CFG_KEY.substr(0, sim::FW_CFG_KEY.rfind('/')));
    if (!is_directory(sim_dir))
        return Error::make(Errc::Config,
                           "simulated PSP: no %s: the host did not pass the simulated platform (launch with "
                           "`cvm launch --simulate`)",
                           sim_dir.c_str());
    sim::SimulatedPsp psp =
        TRY_PREFIX(sim::load_from_fw_cfg(fw_cfg_root), "simulated PSP from %s", fw_cfg_root.c_str());
    return std::make_unique<SimulatedProvider>(std::move(psp));
}

Result<Evidence> SimulatedProvider::get_report(const ReportData& report_data)
{
    Bytes report = TRY_PREFIX(m_psp.get_report(report_data, 0), "simulated PSP");
    TRY(check_report(report, report_data, 0, "simulated report"));
    Bytes table = TRY(normalize_cert_table(m_psp.cert_table(), "simulated certificate table"));
    return Evidence{std::move(report), std::move(table), PROVIDER_SIMULATED};
}

}  // namespace cvm::agent
