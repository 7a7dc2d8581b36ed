#include "mounts.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include "base/file.h"
#include "kernel-cmdline/values.h"

namespace cvm::agent {

Result<void> make_dirs(const std::string& path)
{
    for (size_t at = path.find('/', 1);; at = path.find('/', at + 1)) {
        std::string prefix = path.substr(0, at);
        if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
            return Error::from_errno(Errc::Io, errno, "failed to create %s: %s", prefix.c_str(), strerror(errno));
        if (at == std::string::npos)
            return {};
    }
}

bool is_mount_point(const std::string& path)
{
    // mountinfo, not st_dev: a directory bound onto itself keeps its file system's device.
    auto info = read_text_file("/proc/self/mountinfo", 1 << 20);
    if (!info)
        return false;
    // Each line: <id> <parent> <major:minor> <root> <mount point> ...
    for (std::string_view line : cmdline::split(info.value(), '\n')) {
        std::vector<std::string_view> fields = cmdline::split(line, ' ');
        if (fields.size() > 4 && fields[4] == path)
            return true;
    }
    return false;
}

Result<void> make_mount_point(const std::string& path)
{
    if (is_mount_point(path))
        return {};
    if (mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to bind %s onto itself: %s", path.c_str(), strerror(errno));
    return {};
}

}  // namespace cvm::agent
