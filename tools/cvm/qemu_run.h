// Running QEMU with the guest's serial console relayed: `cvm launch` and `cvm demo` both decide a
// boot by the agent's final console line (launch_outcome.h), not by QEMU's exit status, which is
// 0 whenever the guest powers off, whatever the agent decided.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "launch_outcome.h"

namespace cvm::cli {

struct Relayed {
    int wait_status{0};       // QEMU's (exit status 127 when it could not be executed)
    int signal_forwarded{0};  // the last SIGINT or SIGTERM passed on to QEMU, 0 for none
};

// Runs argv (argv[0] looked up in PATH) with its stdout on a pipe, copies every byte to our
// stdout unchanged (until our stdout fails; the relay goes on so QEMU never blocks) and feeds it
// to `outcome`. QEMU keeps our stdin and stderr. SIGINT and SIGTERM that reach us while it runs are
// forwarded to it; SIGPIPE is ignored meanwhile. Errc::Io when the pipe or the fork fails.
Result<Relayed> run_relayed(const std::vector<std::string>& argv, LaunchOutcome& outcome);

// "exit status N", "signal N" or "wait status N".
std::string describe_wait(int status);

}  // namespace cvm::cli
