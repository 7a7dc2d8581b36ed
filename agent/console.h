// The agent's console: one line per event, "cvminit: ..." on /dev/console (the serial port in
// our boots), falling back to stderr before /dev is mounted or outside a VM (tests).
//
// Lines are composed into a fixed buffer and written with one write(2), so they never interleave
// with the workload's output mid-line. Nothing secret is ever passed here: callers log names,
// sizes and outcomes, never values.
#pragma once

#include <string_view>

namespace cvm::agent {

// Switches output to /dev/console once devtmpfs is mounted (early stage). Idempotent.
void open_console();

// The console's file descriptor (for the workload's stdio), or 2 before open_console().
int console_fd();

[[gnu::format(printf, 1, 2)]] void say(const char* fmt, ...);

}  // namespace cvm::agent
