// PID 1 after the handoff: start the workload and stay its parent until it ends (DESIGN.md §2,
// stage 9). The agent reaps every orphan the kernel re-parents to it, forwards SIGTERM and
// SIGINT (the host's ACPI shutdown arrives as those) to the workload, and when the workload
// exits reports its status, so the caller can sync, unmount and power off.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "confine.h"
#include "proto/release.h"

namespace cvm::agent {

struct Workload {
    std::vector<std::string> argv;  // argv[0] is an absolute path
    std::vector<std::pair<std::string, std::string>> env;
    int stdio_fd{2};          // the console
    Confinement confinement;  // strict unless configured off (confine.h)
};

// Forks and execs the workload with exactly `workload.env` plus the env-marked secrets of
// `release` as its environment (built in the child, after fork, so the parent never holds an
// environment string with a secret in it), confined as `workload.confinement` says
// (confine.h). Returns the child's pid once the child has reached execve and the kernel has
// started the program; the caller wipes `release` right after. When a confinement step or the
// execve fails, the child reports it through a close-on-exec pipe and exits 127, and this
// returns Errc::Io naming the step (or the command) and the errno, the child reaped.
// Signals must be blocked in the caller (they are unblocked in the child).
Result<pid_t> start_workload(const Workload& workload, const proto::Release& release);

// Waits until `child` exits, reaping other children and forwarding SIGTERM/SIGINT to `child`.
// Returns a wait status (as waitpid gives it).
int supervise(pid_t child);

// "exited with status 3" / "killed by signal 9 (SIGKILL)".
std::string describe_status(int wait_status);

}  // namespace cvm::agent
