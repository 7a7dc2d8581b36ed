// A listening Unix stream socket at a path, for HttpServer (ServerOptions::unix_socket): the
// agent's workload API (/run/cvminit/agent.sock, docs/agent-api.md).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/file.h"
#include "base/result.h"

namespace cvm::net {

struct UnixSocketOptions {
    std::string path;            // at most 107 bytes (sun_path)
    mode_t mode = 0600;          // of the socket file; connect(2) needs write permission on it
    std::optional<gid_t> group;  // chown(path, -1, group); nullopt: the caller's group
};

// Binds and listens (non-blocking, close-on-exec). The socket is bound under "<path>.new", given
// its mode and group, then renamed over `path`, so nobody can connect to it while it still has
// the default mode; an earlier socket at `path` is replaced, anything else there is an error.
// Errc::Config for a path too long; Errc::Io (errno saved) when a syscall fails, naming it.
Result<UniqueFd> listen_unix(const UnixSocketOptions& options);

}  // namespace cvm::net
