#include "providers/report_provider_sim.h"

#include <algorithm>
#include <cstring>
#include <sys/stat.h>

#include "providers/derived_key_check.h"
#include "providers/evidence_check.h"
#include "providers/sev_guest_abi.h"
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

Result<DerivedKey> SimulatedProvider::derive_key(const DerivedKeyRequest& request)
{
    TRY(check_key_request(request));
    Evidence evidence = TRY_PREFIX(get_report(key_request_report_data(request)),
                                   "derived key: the report to check the request against");
    snp::AttestationReport report = TRY(snp::parse_report(evidence.report));
    TRY(check_key_request_against(request, report));

    // The same MSG_KEY_REQ the hardware path sends (x86: the struct is the little-endian bytes).
    sev_guest::DerivedKeyReq wire;
    auto bytes = key_request_bytes(request);
    memcpy(&wire, bytes.data(), sizeof(wire));
    sim::KeyRequest req{wire.root_key_select, wire.rsvd,       wire.guest_field_select, wire.vmpl,
                        wire.guest_svn,       wire.tcb_version};
    sim::KeyResponse response = TRY_PREFIX(m_psp.derive_key(req, 0), "simulated PSP");
    TRY(check_key_status(response.status, "simulated MSG_KEY_REQ"));
    TRY(check_key_not_zero(response.key.expose(), "simulated MSG_KEY_REQ"));
    DerivedKey key;
    std::copy(response.key.expose().begin(), response.key.expose().end(), key.expose().begin());
    return key;
}

}  // namespace cvm::agent
