// The simulated platform's hand-off from host to guest through QEMU fw_cfg (DESIGN.md §3): the
// guest's simulated report provider gets the VCEK key, the certificates and the launch state
// from outside the guest, as a real guest gets them from its hardware. SIMULATED: see chain.h.
//
// Blobs (QEMU fw_cfg file names; at most 55 characters, FW_CFG_MAX_FILE_PATH 56 with the NUL):
//
//   opt/cvminit/sim/key     the VCEK private key, SEC1 PEM ("EC PRIVATE KEY", P-384)
//   opt/cvminit/sim/certs   a GUID certificate table (snp/cert_table.h) with exactly the VCEK,
//                           ASK and ARK: what SNP_GET_EXT_REPORT / configfs-tsm's auxblob return
//   opt/cvminit/sim/launch  the launch state, TOML (launch_state_toml below)
//
// Product, TCB and CHIP_ID are not repeated in `launch`: they are read from the VCEK
// certificate's AMD extensions (assemble_platform), so the reports and the certificate cannot
// disagree. In the guest the blobs appear as /sys/firmware/qemu_fw_cfg/by_name/<name>/raw.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sim/chain.h"
#include "sim/psp.h"

namespace cvm::sim {

inline constexpr std::string_view FW_CFG_KEY = "opt/cvminit/sim/key";
inline constexpr std::string_view FW_CFG_CERTS = "opt/cvminit/sim/certs";
inline constexpr std::string_view FW_CFG_LAUNCH = "opt/cvminit/sim/launch";
inline constexpr const char* FW_CFG_GUEST_ROOT = "/sys/firmware/qemu_fw_cfg/by_name";

inline constexpr size_t FW_CFG_MAX_KEY = 4 * 1024;
inline constexpr size_t FW_CFG_MAX_LAUNCH = 4 * 1024;

// The launch state as TOML, every key present:
//   measurement = "<96 hex>"    policy = 0x30000          host_data = "<64 hex>"
//   family_id = "<32 hex>"      image_id = "<32 hex>"      guest_svn = 0
//   platform_info = 0x1         id_key_digest = "<96 hex>" author_key_digest = "<96 hex>"
std::string launch_state_toml(const LaunchState& launch);
// The inverse. Errc::Config naming the key: unknown or missing keys, wrong types, bad hex,
// numbers out of range (policy and platform_info below 2^63, guest_svn below 2^32). `context`
// starts every message ("fw_cfg opt/cvminit/sim/launch").
Result<LaunchState> parse_launch_state_toml(std::string_view text, const char* context);

// Writes out_dir/key, out_dir/certs and out_dir/launch, each 0600 (out_dir is created 0700 when
// missing; existing blob files are replaced atomically). Errc::Io naming the path.
Result<void> write_fw_cfg_files(const Platform& platform, const LaunchState& launch, const std::string& out_dir);

// QEMU arguments that pass the files of write_fw_cfg_files: "-fw_cfg",
// "name=opt/cvminit/sim/key,file=<out_dir>/key", ... (commas in paths doubled, as QEMU's option
// syntax requires).
std::vector<std::string> qemu_fw_cfg_args(const std::string& out_dir);

// The guest side: reads <root>/<blob name>/raw for the three blobs (root is FW_CFG_GUEST_ROOT in
// a guest), each bounded in size and strictly parsed, and returns the PSP they describe. Fails
// naming the blob: missing or oversized, a certificate table that is not exactly VCEK + ASK +
// ARK, a key that is not the VCEK's, a launch state that does not parse.
Result<SimulatedPsp> load_from_fw_cfg(const std::string& root);

}  // namespace cvm::sim
