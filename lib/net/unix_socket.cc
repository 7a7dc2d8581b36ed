#include "net/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cvm::net {

Result<UniqueFd> listen_unix(const UnixSocketOptions& options)
{
    const std::string staging = options.path + ".new";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (options.path.empty() || staging.size() >= sizeof addr.sun_path)
        return Error::make(Errc::Config, "Unix socket path \"%s\": %zu bytes, expected 1 to %zu", options.path.c_str(),
                           options.path.size(), sizeof addr.sun_path - 5);
    std::memcpy(addr.sun_path, staging.c_str(), staging.size() + 1);
    struct stat st {};
    if (lstat(options.path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode))
        return Error::make(Errc::Io, "cannot listen on %s: it exists and is not a socket", options.path.c_str());
    unlink(staging.c_str());  // a leftover of an interrupted start; ENOENT otherwise
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return Error::from_errno(Errc::Io, errno, "socket(AF_UNIX) for %s: %s", options.path.c_str(), strerror(errno));
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot bind %s: %s", staging.c_str(), strerror(errno));
    const char* failed = nullptr;
    if (options.group && chown(staging.c_str(), static_cast<uid_t>(-1), *options.group) != 0)
        failed = "chown";
    else if (chmod(staging.c_str(), options.mode) != 0)
        failed = "chmod";
    else if (listen(fd.get(), 64) != 0)
        failed = "listen";
    else if (rename(staging.c_str(), options.path.c_str()) != 0)
        failed = "rename";
    if (failed) {
        int saved = errno;
        unlink(staging.c_str());
        return Error::from_errno(Errc::Io, saved, "%s of %s failed: %s", failed, options.path.c_str(), strerror(saved));
    }
    return fd;
}

}  // namespace cvm::net
