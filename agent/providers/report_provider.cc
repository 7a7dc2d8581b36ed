// choose_provider: the order of DESIGN.md §2 stage 5, simulation only when asked for, and the one
// fallback from configfs-tsm to /dev/sev-guest that cannot cost the VMPCK.
#include "providers/report_provider.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

#include "providers/report_provider_configfs.h"
#include "providers/report_provider_ioctl.h"
#include "providers/report_provider_sim.h"

namespace cvm::agent {

ConfigfsTsmWithFallback::ConfigfsTsmWithFallback(std::unique_ptr<ConfigfsTsmProvider> configfs,
                                                 OpenFallback open_fallback)
        : m_configfs(std::move(configfs)), m_open_fallback(std::move(open_fallback)), m_name(PROVIDER_CONFIGFS_TSM)
{
}

ConfigfsTsmWithFallback::~ConfigfsTsmWithFallback() = default;

Result<Evidence> ConfigfsTsmWithFallback::get_report(const ReportData& report_data)
{
    m_name = PROVIDER_CONFIGFS_TSM;
    auto got = m_configfs->get_report(report_data);
    if (got.ok() || !m_configfs->outblob_failed_with_eio())
        return got;
    // sev_report_new's INVALID_LEN: the kernel kept the VMPCK and the ioctl path can still get the
    // report, but only without certificates: get_ext_report() refuses a buffer above the same
    // 16 KiB (EINVAL), so an SNP_GET_EXT_REPORT could only fail again at the host. If instead a
    // host or firmware error wiped the key, the device says ENOTTY before sending anything, so
    // this costs nothing either way.
    Error first = got.release_error();
    m_name = PROVIDER_SEV_GUEST;
    auto fallback = m_open_fallback();
    if (!fallback)
        return first.prefix("configfs-tsm (and /dev/sev-guest cannot be opened: %s)",
                            strerror(fallback.error().errno_value()));
    auto evidence = fallback.value()->get_report_without_certificates(report_data);
    if (evidence.ok())
        return evidence;
    if (evidence.error().errno_value() == ENOTTY)
        return Error::from_errno(Errc::Io, EIO,
                                 "configfs-tsm outblob: EIO, and /dev/sev-guest says ENOTTY: a host or firmware "
                                 "error wiped the VMPCK (not the certificate size); reboot to attest again");
    return evidence.release_error().prefix("configfs-tsm outblob EIO (host certificates over 16 KiB?), then");
}

Result<DerivedKey> ConfigfsTsmWithFallback::derive_key(const DerivedKeyRequest& request)
{
    if (!m_key_device) {
        auto device = m_open_fallback();
        if (!device)
            return Error::from_errno(Errc::Unsupported, device.error().errno_value(),
                                     "derived keys: configfs-tsm has none, and /dev/sev-guest, which has them, cannot "
                                     "be opened (%.*s)",
                                     static_cast<int>(device.error().message().size()),
                                     device.error().message().data());
        m_key_device = device.release_value();
    }
    return m_key_device->derive_key(request);
}

Result<DerivedKey> ReportProvider::derive_key(const DerivedKeyRequest&)
{
    return Error::make(Errc::Unsupported,
                       "the %s provider has no derived keys (SNP_GET_DERIVED_KEY needs /dev/sev-guest)", name());
}

Result<std::unique_ptr<ReportProvider>> choose_provider(const ProviderPaths& paths, bool simulate,
                                                        const ProviderSeams& seams)
{
    // Explicit and never silent: with cvminit.simulate=1 the simulator is used even on SEV-SNP
    // hardware, so a boot is either simulated throughout or not at all.
    if (simulate)
        return std::unique_ptr<ReportProvider>(TRY(SimulatedProvider::load(paths.fw_cfg_root)));

    auto open_device = [seams, device = paths.sev_guest_device]() -> Result<std::unique_ptr<SevGuestProvider>> {
        if (seams.open_sev_guest)
            return std::make_unique<SevGuestProvider>(TRY(seams.open_sev_guest(device)));
        return SevGuestProvider::open(device);
    };
    ConfigfsFiles& files = seams.configfs_files ? *seams.configfs_files : system_configfs_files();
    auto probe = ConfigfsTsmProvider::probe(paths.configfs_root, files);
    if (probe.state == ConfigfsTsmProvider::State::Ready) {
        return std::unique_ptr<ReportProvider>(std::make_unique<ConfigfsTsmWithFallback>(
            std::make_unique<ConfigfsTsmProvider>(paths.configfs_root, files), open_device));
    }
    struct stat st {};
    if (stat(paths.sev_guest_device.c_str(), &st) == 0)
        return std::unique_ptr<ReportProvider>(TRY(open_device()));
    if (probe.state == ConfigfsTsmProvider::State::NoProvider)
        return Error::make(Errc::Unavailable,
                           "no SEV-SNP report provider: %s (configfs-tsm) refuses entries (mkdir: %s%s) and %s does "
                           "not exist; the simulator needs cvminit.simulate=1",
                           paths.configfs_root.c_str(), strerror(probe.mkdir_errno),
                           // tsm_report_make_item(): ENXIO when no TSM provider is registered
                           probe.mkdir_errno == ENXIO ? ": no TSM provider registered, sev-guest is not bound" : "",
                           paths.sev_guest_device.c_str());
    return Error::make(Errc::Unavailable,
                       "no SEV-SNP report provider: neither %s (configfs-tsm) nor %s exists; the simulated PSP "
                       "is used only with cvminit.simulate=1 on the kernel command line",
                       paths.configfs_root.c_str(), paths.sev_guest_device.c_str());
}

}  // namespace cvm::agent
