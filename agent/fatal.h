// The agent's single way out on failure (DESIGN.md §2, STYLE.md "Errors"): one line
//   cvminit: FATAL <stage>: <what failed>: <why> (<ERRNO or code>) — <hint>
// then every secret the agent still holds is wiped, the disks are synced, and the machine
// powers off. PID 1 must never exit (the kernel would panic) and never drop to a shell.
//
// Outside PID 1 (the agent run by tests on the host) the same line is printed and the process
// exits with status 1 instead of powering off the host.
#pragma once

#include <functional>

#include "base/error.h"

namespace cvm::agent {

// Called before the power-off to wipe what the caller holds (set once by main).
void set_wipe_hook(std::function<void()> wipe);

[[noreturn]] void fatal(const char* stage, const Error& error, const char* hint);

// Syncs and powers off (PID 1) or exits with `status` (tests). Never returns.
[[noreturn]] void power_off(int status);

}  // namespace cvm::agent
