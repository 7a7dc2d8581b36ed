// The launch a `cvm sim report` / `cvm sim fw-cfg` invocation describes, as the simulated PSP's
// LaunchState: the MEASUREMENT from --measurement or computed from --launch launch.toml exactly
// as `cvm measure --launch` computes it; with --launch, policy, host_data and the ID block's
// fields from launch.toml as `cvm launch` gives them to QEMU (launch_plan.h sim_launch_state);
// the other launch fields from their flags. A flag for a field launch.toml sets is an error.
#pragma once

#include <vector>

#include "args.h"
#include "sim/psp.h"

namespace cvm::cli {

// The SNP MEASUREMENT of the launch in `path`, exactly as `cvm measure --launch` computes it.
// Errc::Config for a mode without one (sev, seves) and for the errors of launch.toml.
Result<std::array<uint8_t, 48>> measure_launch(const std::string& path);

// The flags launch_state_from_flags reads, for a command's FlagSpec list.
const std::vector<FlagSpec>& sim_launch_flags();

// Errc::Config naming the flag: neither or both of --measurement and --launch, bad hex or
// length, a flag for what launch.toml sets, a launch.toml whose mode has no SNP MEASUREMENT,
// a measurement failure, or an [id_block] key that does not sign.
Result<sim::LaunchState> launch_state_from_flags(const Args& args);

}  // namespace cvm::cli
