#include "providers/report_provider_sim.h"

#include "providers/evidence_check.h"
#include "sim/fw_cfg.h"

namespace cvm::agent {

Result<std::unique_ptr<SimulatedProvider>> SimulatedProvider::load(const std::string& fw_cfg_root)
{
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
