// The boot stages of DESIGN.md §2, one file each, run once and in order by main.cc. Each takes
// the shared Context, does its one job, and returns a one-line summary for the console (main
// adds the stage name and duration) or the Error that main turns into the FATAL line.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "client/kbs_session.h"
#include "client/session.h"
#include "dhcp/ipv4.h"
#include "kernel-cmdline/agent_config.h"
#include "kernel-cmdline/cmdline.h"
#include "proto/messages.h"
#include "proto/release.h"
#include "providers/report_provider.h"
#include "storage/luks2_volume.h"

namespace cvm::agent {

enum class NetMode : uint8_t { Dhcp, Static, None };

// Everything the stages share. Secrets live only in `release` (wiping types) until handoff.
struct Context {
    std::string root;  // "" in a VM; a temporary directory in tests
    // Set by a stage just before it fails, when it knows the cause better than its stage's
    // default hint in main (the attest stage: provider, broker or PSP).
    const char* fail_hint{nullptr};
    std::chrono::steady_clock::time_point boot_started = std::chrono::steady_clock::now();
    // The whole boot, until the workload starts: 120 s unless cvminit.deadline says otherwise.
    std::chrono::steady_clock::time_point deadline = boot_started + std::chrono::seconds(120);
    std::string cmdline;  // /proc/cmdline as read
    // From stage config (the measured cmdline and /etc/cvminit.toml).
    bool simulate{false};
    std::string broker_url;
    // The CA bundle an https:// broker's TLS certificate is verified with: the initramfs's copy
    // (cvm initramfs --file CA.pem:/etc/ssl/certs/ca-certificates.crt); tests point it elsewhere.
    std::string broker_ca_file = net::DEFAULT_CA_FILE;
    std::array<uint8_t, 32> broker_key{};
    cmdline::BrokerProtocol broker_protocol{cmdline::BrokerProtocol::Cvmkb};
    std::vector<std::string> resources;
    cmdline::KbsPaths kbs_paths;  // with kbs: each resource's KBS path
    NetMode net_mode{NetMode::Dhcp};
    Ipv4 static_address;  // NetMode::Static
    uint8_t static_prefix{0};
    Ipv4 static_gateway;
    std::vector<Ipv4> dns;  // from the cmdline; empty: the DHCP lease's
    std::string workload_root = "/workload";
    std::vector<std::string> workload_argv;
    std::vector<std::pair<std::string, std::string>> workload_env;  // not secret
    uint32_t workload_user{0};
    uint32_t workload_group{0};
    cmdline::Isolation isolation{cmdline::Isolation::Strict};
    bool api_enabled{true};
    std::optional<uint32_t> api_group;  // nullopt: the socket is root's only (0600)
    cmdline::Transport transport{cmdline::Transport::Cvmkb};
    uint32_t reattest_seconds{0};  // 0: no re-attestation
    cmdline::ReattestFail reattest_fail{cmdline::ReattestFail::Log};
    cmdline::InitdataSource initdata{cmdline::InitdataSource::None};
    // Stage config's parse of the two measured places, which stage initdata merges again with the
    // init-data document (cvminit.initdata).
    std::optional<cmdline::AgentCmdline> measured_cmdline;
    std::optional<cmdline::AgentFileConfig> measured_file;
    std::string initdata_text;                 // stage initdata: the document HOST_DATA binds (sent to a KBS)
    std::unique_ptr<ReportProvider> provider;  // stage initdata or attest
    std::optional<client::Session> session;    // this boot's X25519 key and nonce
    // cvminit.broker_protocol=kbs: the RCAR session (its P-256 TEE key, cookie and nonce) in place
    // of `session`, made anew for every handshake.
    std::optional<client::KbsSession> kbs_session;
    Bytes report;                       // the evidence sent to the broker
    std::vector<snp::CertEntry> certs;  // from the extended report, with their kinds
    // cvminit.transport=ratls: the certificate carrying `report` and its fresh key, presented to
    // the broker over mutual TLS (client/ratls_credential.h); made anew with every report.
    std::shared_ptr<const net::TlsClientIdentity> ratls_identity;
    std::optional<proto::Release> release;  // stage retrieve, until handoff
    std::string secrets_dir = "/run/secrets";
    std::optional<cmdline::VerityRoot> verity;  // the read-only root, when the cmdline pins one
    std::optional<cmdline::DataVolume> data;    // the LUKS2 data volume
    // Stage volume: the data volume's header as read before attesting (untrusted until unlocked)
    // and what the attested request reports of it.
    std::optional<storage::luks2::Inspection> data_seen;
    std::optional<proto::VolumeReport> data_report;
    std::vector<std::string> open_mounts;    // stage storage, as the workload's root sees them
    std::vector<std::string> open_mappings;  // device-mapper names to remove at shutdown

    int64_t remaining_ms() const;
    void wipe();  // drops and wipes every secret held
    ~Context();
};

Result<std::string> stage_early(Context& ctx);
Result<std::string> stage_config(Context& ctx);
// Copies a merged configuration into `ctx` (stage config; stage initdata after its merge) and
// returns the summary line.
std::string apply_config(Context& ctx, const cmdline::AgentConfig& config);
Result<std::string> stage_modules(Context& ctx);
// Only with cvminit.initdata=fw_cfg (main.cc): reads the init-data document from fw_cfg, gets a
// fresh report, refuses a document whose digest is not the report's HOST_DATA, and only then
// merges the document's settings (kernel-cmdline/deployment.h) into `ctx`. Every failure's
// message starts with one of: "init-data document missing", "init-data document unreadable",
// "init-data document invalid", "init-data report", "init-data HOST_DATA mismatch",
// "init-data settings refused".
Result<std::string> stage_initdata(Context& ctx);
// The report provider for this boot (choose_provider), opened once by whichever stage asks
// first: initdata or attest. Sets ctx.fail_hint when it fails.
Result<void> open_provider(Context& ctx);
Result<std::string> stage_network(Context& ctx);
// Only with cvminit.data: reads and judges the data volume's header (nothing written) and fills
// ctx.data_seen and ctx.data_report, which stage attest reports to the broker.
Result<std::string> stage_volume(Context& ctx);
Result<std::string> stage_attest(Context& ctx);
Result<std::string> stage_retrieve(Context& ctx);
Result<std::string> stage_secrets(Context& ctx);
// The work of stage_secrets for a given directory (for tests). The directory and its files are
// owned by `owner_uid`:`owner_gid` (workload.user/group), so a workload run as a user reads them.
Result<std::string> write_secrets(const std::string& dir, const proto::Release& release, uint32_t owner_uid = 0,
                                  uint32_t owner_gid = 0);
// Opens the verity root at /sysroot (it becomes the workload's root) and the data volume below
// the workload's root; "no disks configured" when the cmdline names none.
Result<std::string> stage_storage(Context& ctx);
// After the workload: sync, unmount what stage_storage mounted and remove its dm-crypt mapping
// (the kernel wipes the key). The verity root stays mounted read-only as the agent's own root
// until power-off. Returns what was done, for the console.
std::string close_storage(Context& ctx);
[[noreturn]] void stage_handoff(Context& ctx);

}  // namespace cvm::agent
