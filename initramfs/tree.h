// Copying a host directory tree into an Archive without following symlinks anywhere.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "initramfs/cpio.h"

namespace cvm::initramfs {

// Adds `host_dir` (which must be a directory; a symlink to one is followed, since the caller
// named it) as the directory `prefix` of `archive`, and everything below it: directories, regular
// files (0755 when any execute bit is set, else 0644) and symlinks, kept as symlinks with their
// targets verbatim and never followed, so nothing outside the tree is read. Owners, times,
// readdir order and other permission bits do not reach the archive. Hard links become separate
// files. Each directory is opened by path and checked to be the inode its listing showed, and
// write() checks each file the same way, so a tree changed during the build fails instead of
// pulling in something from elsewhere. Errc::Config naming the path for a device node, FIFO or
// socket, and for the errors of the Archive::add_* calls; Errc::Io when the walk cannot read.
Result<void> add_tree(Archive& archive, const std::string& host_dir, std::string_view prefix);

}  // namespace cvm::initramfs
