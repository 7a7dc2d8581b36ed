// shapes.toml: the VM shapes one release covers (`cvm release --shapes`, docs/release.md).
//
//   vcpus = [1, 2, 4, 8]                        # a cartesian product: every VMM type, for each
//   vcpu_types = ["EPYC-Milan", "EPYC-Genoa"]   # every vCPU type, for each every count, in the
//   vmm_types = ["QEMU"]                        # order written (vmm_types default ["QEMU"])
//
//   [[shape]]                                   # and/or shapes one by one, after the product
//   vcpus = 16
//   vcpu_type = "EPYC-Genoa"
//   vmm_type = "QEMU"                           # default "QEMU"
//
// vCPU types are sev-snp-measure's names (measure/vcpu_types.h). Every shape names one, on ec2
// and gce too, where the MEASUREMENT does not depend on it (those VMMs put a fixed signature in
// the VMSA): the statement says which hardware the shape was released for. VMM types as
// launch.toml takes them ("qemu" too); the statement spells them "QEMU", "ec2", "gce". Each
// (vcpus, vcpu_type, vmm_type) at most once; at least one shape, at most release::MAX_SHAPES.
// Every problem is Errc::Config naming the key ("shapes.toml key 'shape[2].vcpus': ...").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "measure/matrix.h"
#include "release/release.h"

namespace cvm::cli {

// shapes.toml is a small text file.
inline constexpr size_t MAX_SHAPES_TOML_SIZE = 1 << 20;

Result<std::vector<release::Shape>> parse_shapes_toml(std::string_view text);

// Reads and parses `path`; errors are prefixed with the path.
Result<std::vector<release::Shape>> load_shapes_toml(const std::string& path);

// The shape as measure_matrix() takes it. `shape` must have passed check_shape().
measure::LaunchShape launch_shape(const release::Shape& shape);

// Errc::Config unless `shape` has 1 to measure::MAX_VCPUS vCPUs, a known vCPU type and a known
// VMM type spelled as the statement spells it; `what` names it in the message.
Result<void> check_shape(const release::Shape& shape, const std::string& what);

}  // namespace cvm::cli
