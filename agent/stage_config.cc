// Stage 2, config: the agent's configuration from the two measured places only — the cvminit.*
// words of /proc/cmdline and /etc/cvminit.toml inside the initramfs — through the one grammar in
// kernel-cmdline/ that `cvm cmdline` composes with. Anything unknown or malformed stops the boot
// here, naming the key. With cvminit.initdata=fw_cfg the settings an init-data document may carry
// can still be missing here; stage initdata fills them in after checking the document.
#include "base/file.h"
#include "kernel-cmdline/agent_config.h"
#include "kernel-cmdline/cmdline.h"
#include "stages.h"

namespace cvm::agent {
namespace {

Ipv4 to_ipv4(const cmdline::Ipv4Address& a)
{
    return Ipv4{a};
}

}  // namespace

std::string apply_config(Context& ctx, const cmdline::AgentConfig& c)
{
    ctx.deadline = ctx.boot_started + std::chrono::seconds(c.deadline_seconds);
    ctx.simulate = c.simulate;
    ctx.broker_url = c.broker_url;
    ctx.broker_key = c.broker_key;
    ctx.broker_protocol = c.broker_protocol;
    ctx.resources = c.resources;
    ctx.kbs_paths = c.kbs_paths;
    ctx.net_mode = c.net.mode == cmdline::NetMode::Dhcp     ? NetMode::Dhcp
                   : c.net.mode == cmdline::NetMode::Static ? NetMode::Static
                                                            : NetMode::None;
    if (c.net.static_ipv4) {
        ctx.static_address = to_ipv4(c.net.static_ipv4->address);
        ctx.static_prefix = c.net.static_ipv4->prefix;
        ctx.static_gateway = to_ipv4(c.net.static_ipv4->gateway);
    }
    ctx.dns.clear();
    for (const cmdline::Ipv4Address& a : c.net.dns)
        ctx.dns.push_back(to_ipv4(a));
    ctx.workload_root = c.workload_root;
    ctx.workload_argv = c.workload_argv;
    ctx.workload_env = c.workload_env;
    ctx.secrets_dir = c.secrets_dir;
    ctx.verity = c.verity;
    ctx.data = c.data;
    ctx.workload_user = c.workload_user;
    ctx.workload_group = c.workload_group;
    ctx.isolation = c.isolation;
    ctx.api_enabled = c.api_enabled;
    ctx.api_group = c.api_group;
    ctx.transport = c.transport;
    ctx.reattest_seconds = c.reattest_seconds;
    ctx.reattest_fail = c.reattest_fail;
    ctx.initdata = c.initdata;
    bool pending = c.initdata != cmdline::InitdataSource::None && c.broker_url.empty();
    return "broker " + (pending ? std::string("from init-data") : c.broker_url) + ", " +
           std::to_string(c.resources.size()) + " resources, workload " + c.workload_argv[0] + ", deadline " +
           std::to_string(c.deadline_seconds) + " s" + (c.verity ? ", verity root" : "") +
           (c.data ? ", data volume " + c.data->device : "") +
           (c.transport == cmdline::Transport::Ratls ? ", RA-TLS transport" : "") +
           (c.broker_protocol == cmdline::BrokerProtocol::Kbs ? ", Trustee KBS protocol (RCAR 0.4.0)" : "") +
           (c.reattest_seconds ? ", re-attest every " + std::to_string(c.reattest_seconds) + " s" : "") +
           (c.isolation == cmdline::Isolation::Off ? ", workload isolation OFF" : "") +
           (c.initdata != cmdline::InitdataSource::None ? ", init-data from fw_cfg" : "") +
           (c.simulate ? ", SIMULATED platform (cvminit.simulate=1)" : "");
}

Result<std::string> stage_config(Context& ctx)
{
    ctx.cmdline = TRY(read_text_file(ctx.root + "/proc/cmdline", cmdline::MAX_PROC_CMDLINE_SIZE));
    cmdline::AgentCmdline words = TRY(cmdline::parse_cmdline(ctx.cmdline));
    cmdline::AgentFileConfig file = TRY(cmdline::load_agent_toml(ctx.root + cmdline::AGENT_TOML_PATH));
    // With cvminit.initdata this checks the measured part; stage initdata merges again with the
    // document once its HOST_DATA is checked.
    cmdline::AgentConfig c = TRY(cmdline::merge_config(words, file));
    ctx.measured_cmdline = std::move(words);
    ctx.measured_file = std::move(file);
    return apply_config(ctx, c);
}

}  // namespace cvm::agent
