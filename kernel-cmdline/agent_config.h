// /etc/cvminit.toml, the agent's configuration file inside the measured initramfs, and its merge
// with the command line into everything the agent needs.
//
//   [workload]
//   command = ["/usr/bin/app", "--flag"]  # argv, argv[0] an absolute path    XOR cvminit.workload
//   root = "/workload"                    # directory of the initramfs to switch_root into
//   env = { LANG = "C.UTF-8" }            # non-secret environment of the workload
//   user = 1000                           # numeric uid to run it as        default 0 (root)
//   group = 1000                          # numeric gid (and no supplementary groups) default 0
//   isolation = "strict"                  # "strict": no report device, no capability to make
//                                         # one, no_new_privs; "off": the workload may reach the
//                                         # hardware and attest as the agent could (docs/agent-api.md)
//   [agent_api]
//   enabled = true                        # serve /run/cvminit/agent.sock
//   group = 1000                          # numeric gid that may use it (0660), default root only (0600)
//   [secrets]
//   dir = "/run/secrets"                  # where the secrets are written; below /run
//   resources = ["db", "data"]            # the secrets to ask for          XOR cvminit.resources
//   kbs_paths = { db = "prod/db/password" }  # with cvminit.broker_protocol=kbs: the KBS resource
//                                         # path of a resource; default "default/cvminit/<name>"
//
// Every key is optional. Unknown keys, wrong types and bad values are Errc::Config
// "cvminit.toml key '<key>': <expected>". Environment names are [A-Z_][A-Z0-9_]* (at most 128);
// values are at most 4096 bytes without NUL. A setting that both places can carry must come from
// exactly one of them, so that nobody has to know which would win.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "kernel-cmdline/cmdline.h"

namespace cvm::cmdline {

inline constexpr const char* AGENT_TOML_PATH = "/etc/cvminit.toml";
inline constexpr size_t MAX_AGENT_TOML_SIZE = 64 * 1024;
inline constexpr size_t MAX_ARGV = 256;
inline constexpr size_t MAX_ENV = 256;
inline constexpr size_t MAX_ARG_OR_VALUE = 4096;

using EnvList = std::vector<std::pair<std::string, std::string>>;
// Resource name -> Trustee KBS path "<repository>/<type>/<tag>" (proto::valid_kbs_path).
using KbsPaths = std::vector<std::pair<std::string, std::string>>;
inline constexpr const char* DEFAULT_KBS_REPOSITORY_TYPE = "default/cvminit/";  // + the name

struct Deployment;  // deployment.h: what an init-data document may set

// What the workload may reach (docs/agent-api.md "What the workload gets").
enum class Isolation : uint8_t { Strict, Off };

inline constexpr uint32_t MAX_ID = 0xfffffffe;  // (uid_t)-1 means "unchanged" to set*id()

struct AgentFileConfig {
    std::vector<std::string> command;  // empty: not in the file
    std::string root{"/workload"};
    EnvList env;  // sorted by name
    std::string secrets_dir{"/run/secrets"};
    std::vector<std::string> resources;  // empty: not in the file
    KbsPaths kbs_paths;                  // sorted by name; empty: not in the file
    uint32_t user{0};
    uint32_t group{0};
    Isolation isolation{Isolation::Strict};
    bool api_enabled{true};
    std::optional<uint32_t> api_group;  // nullopt: root only
    bool operator==(const AgentFileConfig&) const = default;
};

// Parses the file's text; Errc::Config for text over MAX_AGENT_TOML_SIZE, TOML syntax errors and
// everything the header lists.
Result<AgentFileConfig> parse_agent_toml(std::string_view text);

// Reads and parses `path`. A missing file is the empty configuration (every default, and the
// workload from the command line): the initramfs is measured, so its absence is measured too.
// Other read errors are Errc::Io naming the path.
Result<AgentFileConfig> load_agent_toml(const std::string& path = AGENT_TOML_PATH);

// Everything the agent needs to boot, from both measured places.
struct AgentConfig {
    std::string broker_url;
    proto::Ed25519PublicKey broker_key{};  // zero with kbs
    BrokerProtocol broker_protocol{BrokerProtocol::Cvmkb};
    bool simulate{false};
    NetConfig net;
    uint32_t deadline_seconds{DEFAULT_DEADLINE_SECONDS};
    std::vector<std::string> resources;  // may be empty: nothing to ask for by name; holds data->key_name
    KbsPaths kbs_paths;                  // with kbs: one per resource, in the order of `resources`
    std::string workload_root;           // in the initramfs, unless `verity` replaces the root
    std::optional<VerityRoot> verity;
    std::optional<DataVolume> data;
    std::vector<std::string> workload_argv;  // never empty; argv[0] an absolute path
    EnvList workload_env;
    std::string secrets_dir;
    uint32_t workload_user{0};
    uint32_t workload_group{0};
    Isolation isolation{Isolation::Strict};
    bool api_enabled{true};
    std::optional<uint32_t> api_group;
    Transport transport{Transport::Cvmkb};
    uint32_t reattest_seconds{0};  // 0: off
    ReattestFail reattest_fail{ReattestFail::Log};
    InitdataSource initdata{InitdataSource::None};
};

// Errc::Config naming both spellings when the workload or the resources are set in both places,
// or when no workload is set anywhere. The data volume's key is added to the resources when they do
// not list it already.
//
// With cvminit.initdata the settings of `deployment` (the checked init-data document) join in:
// broker, broker_key, transport, reattest, resources and workload.env entries, each from exactly
// one place (a setting in the document and in a measured place is Errc::Config naming both); then
// the broker and its key must be set somewhere, and ratls needs an https:// broker. Stage config
// (and `cvm cmdline check`) merge before the document is read, with `deployment` null: then only
// the measured part is checked, and broker_url may be empty and broker_key zero until the agent's
// init-data stage merges again with the document. A deployment without cvminit.initdata is
// Errc::Config.
//
// The broker protocol comes from the command line or the document (at most one; cvmkb when
// neither); kbs_paths only from cvminit.toml (measured). With kbs, what cmdline::kbs_conflict
// names is refused wherever it came from, every name in kbs_paths must be among the resources,
// and no two resources may share a path; with cvmkb kbs_paths is refused.
Result<AgentConfig> merge_config(const AgentCmdline& cmdline, const AgentFileConfig& file,
                                 const Deployment* deployment = nullptr);

}  // namespace cvm::cmdline
