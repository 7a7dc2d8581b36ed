// The deployment settings an init-data document may carry (docs/initdata.md): the TOML text of
// its [data] entry "cvminit.toml" (initdata::AGENT_ENTRY), read by the agent only with
// cvminit.initdata=fw_cfg on the measured command line and only after the document's digest
// matched the HOST_DATA of a fresh report (agent/stage_initdata.cc).
//
//   broker = "https://kb-eu.example:8443"   # as cvminit.broker
//   broker_key = "<base64 Ed25519>"         # as cvminit.broker_key
//   broker_protocol = "kbs"                 # as cvminit.broker_protocol: "cvmkb" or "kbs"
//   transport = "ratls"                     # as cvminit.transport: "cvmkb" or "ratls"
//   reattest = 300                          # as cvminit.reattest: whole seconds, 30..86400
//   resources = ["db", "data"]              # as cvminit.resources / secrets.resources
//   [workload]
//   env = { REGION = "eu-west" }            # joins workload.env of /etc/cvminit.toml
//
// The list is deliberate. The host chooses the init-data document; HOST_DATA only tells a
// relying party WHICH document the VM runs, so a broker that cares pins host_data. What the
// document may set therefore only says where to fetch secrets and which ones (the broker still
// verifies the report, and the agent still checks the broker's signature with the key the
// document pins), how often to re-attest, and non-secret environment for the workload. Nothing
// that weakens a check may come from it: simulate, net/ip/gateway/dns, deadline, verity.*,
// data/data_key/data_mount, kbs_paths (which resource is the volume's key is the image's to say),
// the workload's command, root, user, group and isolation,
// reattest_fail, [agent_api], secrets.dir, and cvminit.initdata itself stay measured-only; naming
// one of them here is refused with that reason. Environment names the dynamic loader or libc
// act on (LD_*, and glibc's sysdeps/generic/unsecvars.h UNSECURE_ENVVARS: GCONV_PATH,
// GLIBC_TUNABLES, LOCPATH, TMPDIR, ...) are refused too: they would let the host change which
// code the measured workload runs.
//
// Every key is optional; a setting given here must not be given in a measured place too
// (merge_config in agent_config.h). Unknown keys, wrong types and bad values are Errc::Config
// "init-data cvminit.toml key '<key>': <expected>"; values are not shown (the document is public,
// but the console line stays short).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kernel-cmdline/agent_config.h"
#include "kernel-cmdline/cmdline.h"

namespace cvm::cmdline {

// initdata::MAX_INITDATA_SIZE bounds the whole document; the entry is bounded again here.
inline constexpr size_t MAX_DEPLOYMENT_TOML_SIZE = 64 * 1024;

struct Deployment {
    std::string broker_url;                             // canonical as cvminit.broker; empty: not set
    std::optional<proto::Ed25519PublicKey> broker_key;  // nullopt: not set
    std::optional<BrokerProtocol> broker_protocol;      // nullopt: not set
    std::optional<Transport> transport;                 // nullopt: not set
    uint32_t reattest_seconds{0};                       // 0: not set
    std::vector<std::string> resources;                 // empty: not set
    EnvList env;                                        // sorted by name; empty: none
    bool operator==(const Deployment&) const = default;
};

// Parses the entry's text. Errc::Config as described above, also for text over
// MAX_DEPLOYMENT_TOML_SIZE and TOML syntax errors.
Result<Deployment> parse_deployment(std::string_view text);

// True for environment names the workload may not be given from init-data (see above).
bool loader_env_name(std::string_view name);

}  // namespace cvm::cmdline
