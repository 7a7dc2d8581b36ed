// choose_provider: the order of DESIGN.md §2 stage 5, and simulation only when asked for.
#include "providers/report_provider.h"

#include <sys/stat.h>

#include "providers/report_provider_configfs.h"
#include "providers/report_provider_ioctl.h"
#include "providers/report_provider_sim.h"

namespace cvm::agent {

Result<std::unique_ptr<ReportProvider>> choose_provider(const ProviderPaths& paths, bool simulate)
{
    // Explicit and never silent: with cvminit.simulate=1 the simulator is used even on SEV-SNP
    // hardware, so a boot is either simulated throughout or not at all.
    if (simulate)
        return std::unique_ptr<ReportProvider>(TRY(SimulatedProvider::load(paths.fw_cfg_root)));
    if (ConfigfsTsmProvider::available(paths.configfs_root))
        return std::unique_ptr<ReportProvider>(std::make_unique<ConfigfsTsmProvider>(paths.configfs_root));
    struct stat st {};
    if (stat(paths.sev_guest_device.c_str(), &st) == 0)
        return std::unique_ptr<ReportProvider>(TRY(SevGuestProvider::open(paths.sev_guest_device)));
    return Error::make(Errc::Unavailable,
                       "no SEV-SNP report provider: neither %s (configfs-tsm) nor %s exists; the simulated PSP "
                       "is used only with cvminit.simulate=1 on the kernel command line",
                       paths.configfs_root.c_str(), paths.sev_guest_device.c_str());
}

}  // namespace cvm::agent
