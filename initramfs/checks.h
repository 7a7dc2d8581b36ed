// Build-time checks of `cvm initramfs`: what would otherwise fail only at boot, as a FATAL line
// on the console of a VM that then powers off, fails here with the path and what was expected.
//   - the agent: a static x86-64 ELF executable (ELF64, EM_X86_64, ET_EXEC or ET_DYN, no
//     PT_INTERP, no DT_NEEDED), since the kernel runs /init with no loader and no libraries;
//     a warning when it lacks the cvminit note (exec_format.h), i.e. is some other static binary;
//   - the configuration: the agent's own grammar (kernel-cmdline/agent_config.h), so a key the
//     agent would refuse is refused here, named;
//   - the workload: [workload] command's first element, and every interpreter execve() would
//     open for it ("#!" lines, at most five rewrites, and the ELF PT_INTERP loader;
//     exec_format.h: walk_exec_chain(), the walk the agent's workload_check.h makes too), exist
//     in the archive below [workload] root, as files with an execute bit, symlinks resolved as
//     the workload will see them after switch_root.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "initramfs/cpio.h"
#include "kernel-cmdline/agent_config.h"

namespace cvm::initramfs {

// Errc::Config naming `path` and what was found instead; Errc::Io when it cannot be read.
// Appends to `warnings` when the file has no cvminit note.
Result<void> check_agent(const std::string& path, std::vector<std::string>& warnings);

// Reads and parses the configuration as the agent does; Errc::Config prefixed with `path`.
Result<cmdline::AgentFileConfig> check_config(const std::string& path);

// Checks the workload of `config` against `archive`. Nothing to check when the configuration
// names no command (the command line will); a warning when the archive holds nothing at the
// workload root (the workload then comes from a verity root, which the builder cannot see).
// Errc::Config naming the path (as the workload sees it) and what was expected.
Result<void> check_workload(const Archive& archive, const cmdline::AgentFileConfig& config,
                            std::vector<std::string>& warnings);

}  // namespace cvm::initramfs
