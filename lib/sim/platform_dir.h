// A simulated platform on the host's disk, as `cvm sim init` makes it:
//
//   DIR/            0700
//     ark.pem       the simulated ARK (PEM) -- the root to pass to `cvm verify --trusted-root`
//     ask.pem       the simulated ASK (PEM)
//     vcek.der      the simulated VCEK (DER, as AMD's KDS serves VCEKs), so that DIR works as-is
//                   with `cvm verify --certs DIR`
//     vcek-key.pem  the VCEK private key (SEC1 PEM), 0600: the simulated PSP's secret
//     ark-key.pem   the ARK private key (PKCS#1 PEM), 0600: signs the platform's CRLs
//                   (`cvm sim crl`); absent in platforms made before it was kept
//     crl.der       the ARK-signed CRL (DER, as KDS serves them; sim/crl.h), nothing revoked,
//                   valid a year: pass it to `cvm verify --crl`; `cvm sim crl DIR` replaces it
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
inline constexpr const char* PLATFORM_ARK_KEY = "ark-key.pem";
inline constexpr const char* PLATFORM_CRL = "crl.der";

// Creates `dir` (0700; an existing empty directory is used and set to 0700) and writes the
// files, each created exclusively (ark-key.pem and crl.der only when the platform has its ARK
// key). Errc::Config when `dir` exists and is not an empty directory:
// an existing platform is never overwritten. Errc::Io naming the path otherwise.
Result<void> write_platform(const Platform& platform, const std::string& dir);

// Reads and checks a platform directory: every file bounded in size and strictly parsed
// (unknown platform.toml keys refused by name), the key must be the VCEK's, ark-key.pem (when
// present) the ARK's, and platform.toml must agree with the VCEK certificate. crl.der is not
// read. Errors name the file.
Result<Platform> read_platform(const std::string& dir);

}  // namespace cvm::sim
