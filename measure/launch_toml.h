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
//   What the attestation report carries but the MEASUREMENT does not (SNP_LAUNCH_START and
//   SNP_LAUNCH_FINISH; `cvm launch` passes them to QEMU's sev-snp-guest, the simulated launch
//   puts them in its reports):
//   policy = 0x30000             # GUEST_POLICY (default 0x30000: SMT allowed, no DEBUG); bit 17
//                                # must be set and bits 63:26 clear (56860 Table 9)
//   host_data = "<64 hex>"       # HOST_DATA, 32 bytes                            (default zeros)
//   initdata = "deploy.toml"     # or an init-data document (lib/initdata, docs/initdata.md):
//                                # read and checked here, HOST_DATA is its digest, and `cvm
//                                # launch` passes the file to the guest as fw_cfg
//                                # opt/cvminit/initdata. Not together with host_data.
//   author_key_enabled = true    # AUTHOR_KEY_EN; default: whether [id_block] has an author key,
//                                # and it may only say so (the firmware ignores an author key
//                                # without it, and refuses the launch with it but no author key)
//
//   [id_block]                   # optional: the ID block, signed at launch as `cvm id-block`
//   id_key = "id.pem"            # required in [id_block]: ECDSA P-384 private key, PEM
//   author_key = "author.pem"    # optional: signs the ID key
//   family_id = "<32 hex>"       # FAMILY_ID                                      (default zeros)
//   image_id = "<32 hex>"        # IMAGE_ID                                       (default zeros)
//   guest_svn = 0                # GUEST_SVN                                      (default 0)
//   The ID block signs the launch's MEASUREMENT and its `policy`: SNP_LAUNCH_FINISH refuses an
//   ID block whose POLICY differs from the launch's, so there is no separate policy here.
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

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cvm::launch {

// A launch.toml is a small text file.
inline constexpr size_t MAX_LAUNCH_TOML_SIZE = 1 << 20;

// QEMU's and sev-snp-measure's default GUEST_POLICY: SMT allowed (bit 16), bit 17 (reserved,
// must be one); no DEBUG, no migration agent.
inline constexpr uint64_t DEFAULT_POLICY = 0x30000;
inline constexpr uint64_t POLICY_RESERVED_ONE = 1ull << 17;
inline constexpr uint64_t POLICY_RESERVED_ZERO = ~((1ull << 26) - 1);  // bits 63:26

// [id_block]: what `cvm id-block` signs besides the MEASUREMENT and the policy.
struct IdBlockConfig {
    std::string id_key;
    std::optional<std::string> author_key;
    std::array<uint8_t, 16> family_id{};
    std::array<uint8_t, 16> image_id{};
    uint32_t guest_svn{0};
};

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

    std::optional<uint64_t> policy;                    // unset: DEFAULT_POLICY
    std::optional<std::array<uint8_t, 32>> host_data;  // set from the document with `initdata`
    std::optional<std::string> initdata;               // the init-data document's path
    std::optional<IdBlockConfig> id_block;
    bool author_key_enabled{false};  // resolved: always equal to whether id_block has an author key

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
    uint64_t guest_policy() const { return policy.value_or(DEFAULT_POLICY); }
};

// Parses launch.toml text; relative paths are resolved against `base_dir` ("" leaves them).
// Errc::Config naming the key on any problem. With `initdata`, the document is read (the only
// file read here) and parsed as initdata::parse() does; its errors are prefixed with the key and
// the path.
Result<LaunchConfig> parse_launch_toml(std::string_view text, const std::string& base_dir);

// Reads and parses `path`; errors are prefixed with the path.
Result<LaunchConfig> load_launch_toml(const std::string& path);

}  // namespace cvm::launch
