// What `cvm release` computes: the in-toto statement (lib/release/release.h) of one launch.toml
// over a shape matrix, every MEASUREMENT from one pass over the firmware, kernel and initrd
// (measure/matrix.h).
//
// From the launch.toml: the firmware, kernel and initrd (subjects, with the SHA-256 the
// MEASUREMENT already binds: QEMU's hashes table holds the kernel's and initrd's), the command
// line, guest_features, policy, and HOST_DATA (host_data, or the init-data document's digest,
// which adds the document as the subject "init-data"). Its own vcpus, vCPU type and vmm_type
// choose nothing when shapes are given; when it has them (cvm launch needs them), the launch
// they describe must be one of the shapes, so the file cvm launch starts is one the release
// covers. Without shapes, that one launch is the release.
//
// Refused (Errc::Config naming the key): a mode other than snp, and firmware.snp_ovmf_hash (a
// release hashes the firmware it names as a subject, never a digest it is handed). The statement
// names no path and no clock: the same inputs give the same statement anywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "measure/launch_toml.h"
#include "release/release.h"

namespace cvm::cli {

// A release's validity is at most this many days after SOURCE_DATE_EPOCH.
inline constexpr int64_t MAX_VALID_DAYS = 100 * 366;

struct ReleaseRequest {
    launch::LaunchConfig launch;         // as load_launch_toml() read it
    std::vector<release::Shape> shapes;  // empty: the launch.toml's own shape
    std::string tool;                    // "cvm <version>"
    int64_t source_date_epoch{0};        // 0 to 2^53 - 1
    std::optional<int64_t> valid_days;   // not_after = source_date_epoch + days; 1..MAX_VALID_DAYS
};

struct ReleaseResult {
    release::Statement statement;
    double image_ms{0};   // hashing the firmware, kernel and initrd, once
    double shapes_ms{0};  // every shape's tail of the chain (metadata sections, VMSAs)
};

Result<ReleaseResult> build_release(const ReleaseRequest& request);

}  // namespace cvm::cli
