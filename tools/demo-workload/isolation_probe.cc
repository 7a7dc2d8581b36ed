// `cvminit-demo-workload --probe-isolation`: what a hostile workload would try first to attest
// as the agent, each attempt on one line with the errno that refused it, then
//   isolation: N of M attempts refused
// which the QEMU end-to-end test reads (docs/agent-api.md "What the workload gets"). Nothing is
// written to a kernel interface: a node or directory that could be made is removed at once, a
// sysctl that could be opened for writing is closed unwritten.
#include "isolation_probe.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/error.h"

namespace {

// sev-guest registers a misc device with a dynamic minor (drivers/virt/coco/sev-guest/
// sev-guest.c: misc_register with MISC_DYNAMIC_MINOR); sysfs tells which. Without the driver any
// number shows whether mknod itself is allowed.
constexpr unsigned MISC_MAJOR_NUMBER = 10;
constexpr unsigned FALLBACK_MINOR = 124;

struct Tally {
    int attempts = 0;
    int refused = 0;

    // `error`: 0 when the attempt succeeded (the isolation failed), else its errno.
    void record(const char* what, int error)
    {
        ++attempts;
        if (error == 0) {
            printf("isolation: %s: ALLOWED\n", what);
            return;
        }
        ++refused;
        printf("isolation: %s: refused (%s %d: %s)\n", what, cvm::errno_name(error), error, strerror(error));
    }
};

int open_device(const char* path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

int make_report_entry()
{
    std::string entry = "/sys/kernel/config/tsm/report/probe-" + std::to_string(getpid());
    if (mkdir(entry.c_str(), 0700) != 0)
        return errno;
    rmdir(entry.c_str());
    return 0;
}

unsigned sev_guest_minor()
{
    char text[32] = "";
    if (FILE* f = fopen("/sys/class/misc/sev-guest/dev", "r")) {
        if (!fgets(text, sizeof text, f))
            text[0] = '\0';
        fclose(f);
    }
    unsigned major = 0, minor = 0;
    if (sscanf(text, "%u:%u", &major, &minor) == 2 && major == MISC_MAJOR_NUMBER)
        return minor;
    return FALLBACK_MINOR;
}

int make_device_node(const std::string& path, unsigned minor)
{
    if (mknod(path.c_str(), S_IFCHR | 0600, makedev(MISC_MAJOR_NUMBER, minor)) != 0)
        return errno;
    unlink(path.c_str());
    return 0;
}

int mount_configfs(const std::string& dir)
{
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return errno;
    int e = mount("configfs", dir.c_str(), "configfs", 0, nullptr) == 0 ? 0 : errno;
    if (e == 0)
        umount2(dir.c_str(), MNT_DETACH);
    rmdir(dir.c_str());
    return e;
}

// A file handle is anyone's to take (name_to_handle_at); opening one needs CAP_DAC_READ_SEARCH
// and reaches the inode past every mount (fs/fhandle.c: do_handle_open()).
int open_by_handle(const char* path)
{
    // file_handle ends in a flexible array: room for it is allocated behind the header.
    alignas(file_handle) unsigned char storage[sizeof(file_handle) + MAX_HANDLE_SZ]{};
    auto* handle = reinterpret_cast<file_handle*>(storage);
    handle->handle_bytes = MAX_HANDLE_SZ;
    int mount_id = 0;
    if (name_to_handle_at(AT_FDCWD, path, handle, &mount_id, 0) != 0)
        return errno;
    int mount_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mount_fd < 0)
        return errno;
    int fd = open_by_handle_at(mount_fd, handle, O_RDONLY | O_CLOEXEC);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    close(mount_fd);
    return e;
}

int open_for_reading(const char* path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    close(fd);  // nothing read
    return 0;
}

int open_for_writing(const char* path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    close(fd);  // nothing written
    return 0;
}

}  // namespace

int probe_isolation()
{
    Tally t;
    t.record("open /dev/sev-guest", open_device("/dev/sev-guest"));
    t.record("mkdir under /sys/kernel/config/tsm/report", make_report_entry());
    unsigned minor = sev_guest_minor();
    std::string node_what =
        "mknod /tmp/probe-sev-guest c " + std::to_string(MISC_MAJOR_NUMBER) + ":" + std::to_string(minor);
    t.record(node_what.c_str(), make_device_node("/tmp/probe-sev-guest", minor));
    t.record("mount -t configfs on /tmp/probe-configfs", mount_configfs("/tmp/probe-configfs"));
    t.record("open_by_handle_at of /tmp", open_by_handle("/tmp"));
    t.record("open /proc/1/root/dev/sev-guest", open_device("/proc/1/root/dev/sev-guest"));
    t.record("open /proc/sys/kernel/core_pattern for writing", open_for_writing("/proc/sys/kernel/core_pattern"));
    // Under simulation the simulated PSP's signing key arrives through QEMU's fw_cfg (sim/fw_cfg.h):
    // a workload that read it could sign reports of its own.
    t.record("open fw_cfg's opt/cvminit/sim/key",
             open_for_reading("/sys/firmware/qemu_fw_cfg/by_name/opt/cvminit/sim/key/raw"));
    printf("isolation: %d of %d attempts refused\n", t.refused, t.attempts);
    fflush(stdout);
    return t.refused == t.attempts ? 0 : 1;
}
