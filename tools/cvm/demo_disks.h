// The disks of `cvm demo` (DESIGN.md §9): a read-only ext4 root holding the workload, its
// dm-verity hash tree, and a blank data disk the agent formats as LUKS2 on its first boot.
//
// The root is made the same way every time, so its verity root hash -- and with it the measured
// command line and the MEASUREMENT -- depends only on the workload's bytes: mke2fs -d from a tree
// this file writes, with a fixed UUID and directory hash seed, every timestamp (the superblock's
// through E2FSPROGS_FAKE_TIME, each inode's set afterwards with debugfs, since mke2fs 1.47.0
// copies ctime from the source tree) at SOURCE_DATE_EPOCH or 1, and the tree built in this process
// by lib/storage/verity with a fixed salt and hash-device UUID.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "kernel-cmdline/cmdline.h"

namespace cvm::cli {

// The program in $PATH, /usr/sbin or /sbin (mke2fs lives in sbin, which a user's PATH may lack);
// empty when none has it.
std::string find_program(const std::string& name);

// Runs argv (argv[0] looked up as find_program does) with `env` added to this process's
// environment and, when `output` is given, its stdout and stderr in that file; waits, and returns
// its exit status (128 + signal when killed, 127 when it could not be executed). Errc::Config when
// the program is not found, Errc::Io when it cannot be started.
Result<int> run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                        const std::string& output = "");

// work/rootfs (the workload at /usr/bin/demo-workload; /dev /proc /sys /run /tmp /data for the
// agent's mounts), then work/root.img from it and work/root.hash, both rewritten. Returns the
// cvminit.verity.* values with the disks at /dev/vda (root) and /dev/vdb (tree). Errc::Config
// naming e2fsprogs when mke2fs or debugfs is missing; Errc::Io when either fails.
Result<cmdline::VerityRoot> make_root_disks(const std::string& work, const std::string& workload);

// work/data.img, a sparse blank disk of `bytes`, unless it exists: then it is kept, with what
// earlier boots wrote. Returns true when it was made now.
Result<bool> make_data_disk(const std::string& work, uint64_t bytes);

}  // namespace cvm::cli
