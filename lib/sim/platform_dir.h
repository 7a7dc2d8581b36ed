// A simulated platform on the host's disk, as `cvm sim init` makes it:
//
//   DIR/            0700
//     ark.pem       the simulated ARK (PEM) -- the root to pass to `cvm verify --trusted-root`
//     ask.pem       the simulated ASK (PEM)
//     vcek.der      the simulated VCEK (DER, as AMD's KDS serves VCEKs), so that DIR works as-is
//                   with `cvm verify --certs DIR`
//     vcek-key.pem  the VCEK private key (SEC1 PEM), 0600: the simulated PSP's secret
//     platform.toml product, chip_id (128 hex digits) and [tcb] bootloader/tee/snp/microcode
//                   (fmc on Turin), for people and scripts; the VCEK certificate stays the
//                   authority and read_platform() requires the two to agree
#pragma once

#include <string>

#include "base/result.h"
#include "sim/chain.h"

namespace cvm::sim {

inline constexpr const char* PLATFORM_ARK = "ark.pem";
inline constexpr const char* PLATFORM_ASK = "ask.pem";
inline constexpr const char* PLATFORM_VCEK = "vcek.der";
inline constexpr const char* PLATFORM_KEY = "vcek-key.pem";
inline constexpr const char* PLATFORM_TOML = "platform.toml";

// Creates `dir` (0700; an existing empty directory is used and set to 0700) and writes the
// files, each created exclusively. Errc::Config when `dir` exists and is not an empty directory:
// an existing platform is never overwritten. Errc::Io naming the path otherwise.
Result<void> write_platform(const Platform& platform, const std::string& dir);

// Reads and checks a platform directory: every file bounded in size and strictly parsed
// (unknown platform.toml keys refused by name), the key must be the VCEK's, and platform.toml
// must agree with the VCEK certificate. Errors name the file.
Result<Platform> read_platform(const std::string& dir);

}  // namespace cvm::sim
