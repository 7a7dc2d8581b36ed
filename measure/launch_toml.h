// launch.toml: the one description of a confidential VM launch (DESIGN.md §6), read by
// `cvm measure --launch` and meant for `cvm launch` and `cvm cmdline` as well. It names what
// is measured and how the VMM starts it; it holds no secrets.
//
//   mode = "snp"                 # snp | snp:svsm | seves | sev                  (default snp)
//   vcpus = 4                    # required (not for sev)
//   vcpu_type = "EPYC-Milan"     # or vcpu_sig = 0xa00f11, or vcpu_family/_model/_stepping
//   vmm_type = "QEMU"            # QEMU | ec2 | gce                              (default QEMU)
//   guest_features = 0x1         # SEV_FEATURES of the vCPUs                     (default 0x1)
//   memory_mib = 4096            # guest memory; not measured
//
//   [firmware]
//   ovmf = "OVMF.amdsev.fd"      # required
//   snp_ovmf_hash = "<96 hex>"   # optional: the digest of the OVMF pages, precomputed
//   svsm = "svsm.bin"            # snp:svsm, with vars_size = 540672 or vars_file = "VARS.fd"
//
//   [kernel]                     # optional: measured direct boot
//   path = "vmlinuz"             # required in [kernel]
//   initrd = "initrd.img"
//   cmdline = ["console=ttyS0", "cvminit.broker=https://kb:8443"]   # joined with spaces
//
// Relative paths are relative to the directory of the launch.toml. Unknown keys, wrong types
// and out-of-range numbers are errors naming the key. Names (mode, vcpu_type, vmm_type) are
// kept as written; the command that uses them checks them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cvm::launch {

// A launch.toml is a small text file.
inline constexpr size_t MAX_LAUNCH_TOML_SIZE = 1 << 20;

struct LaunchConfig {
    std::string mode{"snp"};
    std::optional<uint32_t> vcpus;
    std::optional<std::string> vcpu_type;
    std::optional<uint32_t> vcpu_sig;
    std::optional<uint32_t> vcpu_family;
    std::optional<uint32_t> vcpu_model;
    std::optional<uint32_t> vcpu_stepping;
    std::string vmm_type{"QEMU"};
    uint64_t guest_features{0x1};
    std::optional<uint64_t> memory_mib;

    std::string ovmf;
    std::optional<std::string> snp_ovmf_hash;
    std::optional<std::string> svsm;
    std::optional<uint64_t> vars_size;
    std::optional<std::string> vars_file;

    std::optional<std::string> kernel;
    std::optional<std::string> initrd;
    std::vector<std::string> cmdline;

    // The kernel command line: the parts joined with single spaces ("" when there are none).
    std::string cmdline_string() const;
};

// Parses launch.toml text; relative paths are resolved against `base_dir` ("" leaves them).
// Errc::Config naming the key on any problem.
Result<LaunchConfig> parse_launch_toml(std::string_view text, const std::string& base_dir);

// Reads and parses `path`; errors are prefixed with the path.
Result<LaunchConfig> load_launch_toml(const std::string& path);

}  // namespace cvm::launch
