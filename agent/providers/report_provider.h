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
#include <functional>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"

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

// SNP_GET_DERIVED_KEY (AMD SEV-SNP ABI 56860 "MSG_KEY_REQ"; Linux struct snp_derived_key_req):
// a 32-byte key the firmware derives from a root key and exactly the guest fields selected.
enum class RootKey : uint8_t { Vcek, Vlek };  // KEY_SEL 1 and 2; VMRK and "VLEK if installed" are never asked for

// GUEST_FIELD_SELECT bits (56860 Table "MSG_KEY_REQ", hardware-abi.md). Bit 6 (LAUNCH_MIT_VECTOR)
// needs message version 2, which Linux cannot send.
inline constexpr uint64_t FIELD_GUEST_POLICY = 1u << 0;
inline constexpr uint64_t FIELD_IMAGE_ID = 1u << 1;
inline constexpr uint64_t FIELD_FAMILY_ID = 1u << 2;
inline constexpr uint64_t FIELD_MEASUREMENT = 1u << 3;
inline constexpr uint64_t FIELD_GUEST_SVN = 1u << 4;
inline constexpr uint64_t FIELD_TCB_VERSION = 1u << 5;
inline constexpr uint64_t FIELD_ALL = 0x3f;

struct DerivedKeyRequest {
    RootKey root{RootKey::Vcek};
    uint64_t field_select{0};  // FIELD_* bits only
    uint32_t vmpl{0};          // >= the guest's VMPL (0 for cvminit), <= 3
    uint32_t guest_svn{0};     // <= the launch's GUEST_SVN
    uint64_t tcb_version{0};   // raw TCB_VERSION, <= COMMITTED_TCB
    bool operator==(const DerivedKeyRequest&) const = default;
};

inline constexpr size_t DERIVED_KEY_SIZE = 32;
using DerivedKey = Secret<DERIVED_KEY_SIZE>;

class ReportProvider {
public:
    virtual ~ReportProvider() = default;
    // One of the PROVIDER_* names.
    virtual const char* name() const = 0;
    // A report whose REPORT_DATA is `report_data`, at VMPL 0. Errors name the file, ioctl or
    // field that failed; none of them is worth retrying (see above).
    virtual Result<Evidence> get_report(const ReportData& report_data) = 0;

    // A derived key for `request`. Before anything reaches the firmware, the provider gets one
    // fresh report (its REPORT_DATA the tag "cvminit derived-key/1" bound to the request) and
    // checks every field of the request against it (VMPL, GUEST_SVN, TCB_VERSION against
    // COMMITTED_TCB, a VLEK root only when the report is VLEK-signed, no bit outside FIELD_ALL):
    // a malformed request would wipe the VMPCK like any firmware error. Then STATUS is checked,
    // an all-zero key refused, and every copy but the returned one wiped. Errors name the field,
    // the value found and the value allowed. The default: Errc::Unsupported naming the provider
    // (configfs-tsm has no derived keys: Linux's TSM report interface only makes reports).
    virtual Result<DerivedKey> derive_key(const DerivedKeyRequest& request);
};

// Where the providers look; the defaults are a guest's paths, tests point them at temp dirs.
struct ProviderPaths {
    std::string configfs_root = "/sys/kernel/config/tsm/report";
    std::string sev_guest_device = "/dev/sev-guest";
    std::string fw_cfg_root = "/sys/firmware/qemu_fw_cfg/by_name";
};

class ConfigfsFiles;
class ConfigfsTsmProvider;
class SevGuestDevice;
class SevGuestProvider;

// The kernel interfaces choose_provider opens; empty members mean the real ones. Tests put fakes
// here (tests/fakes/fake_configfs_tsm.h, fake_sev_guest.h). Whatever they refer to must outlive
// the provider.
struct ProviderSeams {
    ConfigfsFiles* configfs_files = nullptr;
    std::function<Result<std::unique_ptr<SevGuestDevice>>(const std::string& path)> open_sev_guest;
};

// configfs-tsm, with /dev/sev-guest only when reading outblob failed with EIO
// (ConfigfsTsmProvider::outblob_failed_with_eio): the host's certificates did not fit the kernel's
// 16 KiB, the VMPCK is intact, and the ioctl can still get the report without certificates:
// exactly one SNP_GET_REPORT (SevGuestProvider::get_report_without_certificates), never an
// SNP_GET_EXT_REPORT, whose buffer the kernel caps at the same 16 KiB, so it could only fail.
// The same EIO after a host or firmware error comes with a wiped VMPCK; the device then answers
// that ioctl with ENOTTY before sending anything, and the error says so. Every other
// configfs failure is returned as it is, with nothing sent to the device. name() is the provider
// that gave (or last tried to give) the report.
//
// derive_key(): configfs-tsm has no derived keys, so /dev/sev-guest is opened (once, through the
// same open_fallback, and kept) and derives (SevGuestProvider::derive_key, with its own fresh
// report). Where the device cannot be opened: Errc::Unsupported naming both facts (configfs-tsm
// has no derived keys, and why /dev/sev-guest could not be opened).
class ConfigfsTsmWithFallback : public ReportProvider {
public:
    using OpenFallback = std::function<Result<std::unique_ptr<SevGuestProvider>>()>;
    ConfigfsTsmWithFallback(std::unique_ptr<ConfigfsTsmProvider> configfs, OpenFallback open_fallback);
    ~ConfigfsTsmWithFallback() override;

    const char* name() const override { return m_name; }
    Result<Evidence> get_report(const ReportData& report_data) override;
    Result<DerivedKey> derive_key(const DerivedKeyRequest& request) override;

private:
    std::unique_ptr<ConfigfsTsmProvider> m_configfs;
    OpenFallback m_open_fallback;
    std::unique_ptr<SevGuestProvider> m_key_device;  // derive_key's /dev/sev-guest, once opened
    const char* m_name;
};

// The provider for this boot:
//   simulate == true   the simulated provider, whatever hardware is present: simulation is only
//                      ever chosen because the measured cmdline says cvminit.simulate=1, and then
//                      always, so a verifier sees "simulated" and never a silent mix;
//   otherwise          configfs-tsm when a probe entry can be made under its root (with the
//                      /dev/sev-guest fallback above), else /dev/sev-guest when the device node
//                      exists, else Errc::Unavailable naming both paths and what was found (no
//                      configfs-tsm, or configfs-tsm without a provider: mkdir's errno) and
//                      saying that the simulator needs cvminit.simulate=1. Never the simulator.
// Errors from opening the chosen provider (a device that cannot be opened, fw_cfg blobs missing)
// are returned as they are: the next provider is not tried.
Result<std::unique_ptr<ReportProvider>> choose_provider(const ProviderPaths& paths, bool simulate,
                                                        const ProviderSeams& seams = {});

}  // namespace cvm::agent
