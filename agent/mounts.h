// Mount helpers the storage and handoff stages share.
#pragma once

#include <string>

#include "base/result.h"

namespace cvm::agent {

// mkdir -p, mode 0755; existing directories are fine. Errc::Io naming the first that fails.
Result<void> make_dirs(const std::string& path);

// True when /proc/self/mountinfo lists `path` (as this process sees it) as a mount point.
bool is_mount_point(const std::string& path);

// Makes the directory `path` a mount point by binding it (recursively) onto itself, unless it is
// one already. Errc::Io naming the path.
Result<void> make_mount_point(const std::string& path);

}  // namespace cvm::agent
