// Stage 1, early: the filesystems every later stage needs, the console, and the process
// hardening that must precede any secret (DESIGN.md §2).
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "console.h"
#include "stages.h"

namespace cvm::agent {
namespace {

struct Mount {
    const char* source;
    const char* target;
    const char* type;
    unsigned long flags;
    const char* data;
};

// /dev first: the console lives there. /run is where the secrets go: tmpfs, so they never touch
// a disk, and 0755 so that only /run/secrets itself (0700) needs tightening.
constexpr Mount EARLY_MOUNTS[] = {
    {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755"},
    {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
    {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
    {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
};

Result<void> mount_one(const std::string& root, const Mount& m)
{
    std::string target = root + m.target;
    if (mkdir(target.c_str(), 0755) != 0 && errno != EEXIST)
        return Error::from_errno(Errc::Io, errno, "failed to create %s: %s", target.c_str(), strerror(errno));
    if (mount(m.source, target.c_str(), m.type, m.flags, m.data) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to mount %s on %s: %s", m.type, target.c_str(),
                                 strerror(errno));
    return {};
}

}  // namespace

Result<std::string> stage_early(Context& ctx)
{
    for (const Mount& m : EARLY_MOUNTS)
        TRY(mount_one(ctx.root, m));
    open_console();
    // No core dumps and no ptrace attach by other users: this process will hold keys.
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to make the agent non-dumpable: %s", strerror(errno));
    // Signals are taken synchronously (handoff's supervisor); nothing may interrupt a stage.
    sigset_t all;
    sigfillset(&all);
    if (sigprocmask(SIG_BLOCK, &all, nullptr) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to block signals: %s", strerror(errno));
    return std::string("/dev /proc /sys /run mounted, console open, not dumpable");
}

}  // namespace cvm::agent
