// The files `cvm demo` generates in its work directory: the workload tree and its cvminit.toml,
// the launch.toml of the demo VM, and the broker's configuration. Kept apart from the command so
// that cmd_demo.cc reads as the sequence of steps.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"

namespace cvm::cli {

// `dir` (created 0700) when given, else a fresh directory under $TMPDIR.
Result<std::string> make_work_dir(const std::optional<std::string>& dir);
void remove_tree(const std::string& dir);

// tree/usr/bin/demo-workload (a copy of `workload`, 0755) and cvminit.toml: run it with exit
// status 7, an environment variable from the file, and the secrets "db" and "token".
Result<void> write_demo_tree(const std::string& work, const std::string& workload);

// launch.toml: 1 vCPU EPYC-v4, 512 MiB, the AmdSev firmware, kernel, work/initrd, `cmdline`.
Result<void> write_demo_launch(const std::string& work, const std::string& kernel, const std::string& ovmf,
                               const std::string& cmdline);

// The broker's configuration: 127.0.0.1:port, broker.key, the simulated root of work/sim,
// allow_simulated, and two secrets (one also exported as DB_PASSWORD) for `measurement` only.
std::string demo_broker_config(uint16_t port, const std::string& measurement);

}  // namespace cvm::cli
