// What execve() of the workload will need, checked by the agent before it forks the workload, so
// that a FATAL line names the real cause instead of execve's bare ENOENT: a missing command, a
// command without an execute bit, or -- the confusing case -- a script or dynamic ELF whose
// interpreter ("#!" line, PT_INTERP; initramfs/exec_format.h) is missing from the root although
// the command itself exists (fs/exec.c: open_exec() of the interpreter gives the ENOENT).
#pragma once

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

}  // namespace cvm::agent
