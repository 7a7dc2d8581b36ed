// What execve() of the workload will need, checked by the agent before it forks the workload, so
// that a FATAL line names the real cause instead of execve's bare ENOENT: a missing command, a
// command without an execute bit, or -- the confusing case -- a script or dynamic ELF whose
// interpreter ("#!" line, PT_INTERP; initramfs/exec_format.h) is missing from the root although
// the command itself exists (fs/exec.c: open_exec() of the interpreter gives the ENOENT). The
// chain is walked by initramfs::walk_exec_chain(), as the builder's checks.h walks it, and each
// hint says what to do where the missing file was named: the "#!" line of a script, or the
// PT_INTERP loader of a dynamic ELF (install the loader or link statically).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/error.h"

namespace cvm::agent {

struct ExecProblem {
    Error error;       // carries the errno execve would give
    std::string hint;  // for the FATAL line
};

// `root` is prepended to every path looked at ("" in the VM after switch_root; a directory in
// tests). nullopt when the command and its interpreters exist and are executable files.
std::optional<ExecProblem> check_executable(const std::string& root, const std::string& path);

// The FATAL hint when the workload's root cannot be switched to.
inline constexpr const char* NO_WORKLOAD_TREE_HINT = "the initramfs must hold the workload tree (cvm initramfs --root)";

// The handoff's mount points: creates `root`/`name` ("tmp", "dev", ...) with `mode` unless it
// exists. A read-only root (dm-verity) without it gives EROFS, and the hint says to add the empty
// directory to the root image; any other failure gives NO_WORKLOAD_TREE_HINT. nullopt when the
// directory is there.
std::optional<ExecProblem> make_root_dir(const std::string& root, const std::string& name, mode_t mode);

}  // namespace cvm::agent
