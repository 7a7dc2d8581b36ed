// What `cvm measure` is asked to compute: the measure::Inputs plus what it echoes back.
//
// The flags (sev-snp-measure 0.0.13's names) and launch.toml (measure/launch_toml.h) both
// describe a launch with the same fields; the flags are first turned into a LaunchConfig, so
// one set of rules resolves and checks both:
//
// - the vCPU signature comes from, in this order, --vcpu-family/--vcpu-model/--vcpu-stepping
//   (all three), --vcpu-sig, --vcpu-type. A zero signature or family is a value (as in
//   sev-snp-measure after 0.0.13); 0.0.13 itself skipped a zero and took the next source, so a
//   zero together with another source, where the two versions disagree, is an error. A named
//   type must be known even when another source wins. sev needs no signature, ec2 and gce do
//   not use it.
// - the kernel command line, initrd and kernel follow sev-snp-measure: an empty --kernel or
//   --initrd path means none, an empty --append is the same as none.
// - options that would be silently ignored although they name something to measure (--svsm or
//   --vars-* outside snp:svsm, a kernel in snp:svsm) are errors.
#pragma once

#include <optional>
#include <string>

#include "args.h"
#include "measure/launch_toml.h"
#include "measure/measure.h"

namespace cvm::cli {

struct MeasureRequest {
    measure::Inputs inputs;
    std::optional<std::string> vcpu_type;  // as named, echoed in JSON
    std::optional<std::string> vars_file;
    std::optional<uint64_t> memory_mib;
};

// Parses an unsigned number as Python's int(x, 0) does for the usual spellings: decimal without
// leading zeros, 0x/0o/0b prefixes. Errc::Config naming `what` otherwise or above `max`.
Result<uint64_t> parse_number(const std::string& text, uint64_t max, const char* what);

// The launch described by the flags of `cvm measure` (see its USAGE).
Result<launch::LaunchConfig> config_from_flags(const Args& args);

// Resolves and checks a launch description.
Result<MeasureRequest> request_from_config(const launch::LaunchConfig& config);

}  // namespace cvm::cli
