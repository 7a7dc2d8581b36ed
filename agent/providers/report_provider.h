// Report providers (DESIGN.md §3): one interface over the three ways a guest obtains a signed
// ATTESTATION_REPORT (AMD SEV-SNP ABI 56860, "ATTESTATION_REPORT Structure") and the host's
// certificate table:
//
//   configfs-tsm  /sys/kernel/config/tsm/report/<entry>/   Linux >= 6.7   report_provider_configfs.h
//   sev-guest     /dev/sev-guest ioctls                    Linux >= 5.19  report_provider_ioctl.h
//   simulated     the simulated PSP from QEMU fw_cfg       cvminit.simulate=1 only, report_provider_sim.h
//
// Every provider hands back only evidence it has checked: the report is exactly
// snp::REPORT_SIZE bytes, passes snp::parse_report, and its REPORT_DATA is the 64 bytes asked
// for; the certificate table parses (snp::parse_cert_table) and is trimmed to its last blob.
// Nothing is verified cryptographically here: that is the broker's job.
//
// A provider is never retried by its caller: on the hardware paths any firmware error makes the
// kernel wipe the guest's VMPCK, so every later request fails until reboot (DESIGN.md §2 stage 5).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::agent {

using ReportData = std::array<uint8_t, 64>;

inline constexpr const char* PROVIDER_CONFIGFS_TSM = "configfs-tsm";
inline constexpr const char* PROVIDER_SEV_GUEST = "sev-guest";
inline constexpr const char* PROVIDER_SIMULATED = "simulated";

struct Evidence {
    Bytes report;          // exactly snp::REPORT_SIZE bytes
    Bytes cert_table;      // GUID table (snp/cert_table.h); empty when the host supplied none
    std::string provider;  // one of the PROVIDER_* names: a verifier must know "simulated"
};

class ReportProvider {
public:
    virtual ~ReportProvider() = default;
    // One of the PROVIDER_* names.
    virtual const char* name() const = 0;
    // A report whose REPORT_DATA is `report_data`, at VMPL 0. Errors name the file, ioctl or
    // field that failed; none of them is worth retrying (see above).
    virtual Result<Evidence> get_report(const ReportData& report_data) = 0;
};

// Where the providers look; the defaults are a guest's paths, tests point them at temp dirs.
struct ProviderPaths {
    std::string configfs_root = "/sys/kernel/config/tsm/report";
    std::string sev_guest_device = "/dev/sev-guest";
    std::string fw_cfg_root = "/sys/firmware/qemu_fw_cfg/by_name";
};

// The provider for this boot:
//   simulate == true   the simulated provider, whatever hardware is present: simulation is only
//                      ever chosen because the measured cmdline says cvminit.simulate=1, and then
//                      always, so a verifier sees "simulated" and never a silent mix;
//   otherwise          configfs-tsm when its root directory exists, else /dev/sev-guest when the
//                      device node exists, else Errc::Unavailable naming both paths and saying
//                      that the simulator needs cvminit.simulate=1. Never the simulator.
// Errors from opening the chosen provider (a device that cannot be opened, fw_cfg blobs missing)
// are returned as they are: the next provider is not tried.
Result<std::unique_ptr<ReportProvider>> choose_provider(const ProviderPaths& paths, bool simulate);

}  // namespace cvm::agent
