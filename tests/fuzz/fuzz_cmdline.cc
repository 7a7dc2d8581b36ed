// libFuzzer harness: the agent's configuration, the kernel command line (kernel-cmdline/cmdline.h)
// and /etc/cvminit.toml (agent_config.h). The input is split at its first NUL byte, which no
// command line may contain: the text before it is the command line, the text after it the TOML;
// without a NUL both parsers get the whole input. Invariants on every accepted command line:
// the composed canonical form parses back to the same values and is its own canonical form, fits
// the bound, and keeps the cross-key rules; accepted pairs must merge or fail with Errc::Config.
// The TOML text is also parsed as an init-data document's deployment settings (deployment.h):
// an accepted one stays in its ranges and names no loader variable, and merged into a command
// line with cvminit.initdata it gives a complete configuration (broker and key set) or
// Errc::Config.
#include <cstdlib>
#include <string_view>

#include "kernel-cmdline/agent_config.h"
#include "kernel-cmdline/cmdline.h"
#include "kernel-cmdline/deployment.h"

using namespace cvm::cmdline;

namespace {

void check_cmdline(const AgentCmdline& c)
{
    std::string composed = compose_cmdline(c);
    auto again = parse_cmdline(composed + "\n");
    if (!again.ok() || !(again.value() == c) || compose_cmdline(again.value()) != composed)
        abort();
    if ((c.net.mode == NetMode::Static) != c.net.static_ipv4.has_value() || c.net.dns.size() > MAX_DNS_SERVERS ||
        c.resources.size() > MAX_RESOURCES || c.deadline_seconds < MIN_DEADLINE_SECONDS ||
        c.deadline_seconds > MAX_DEADLINE_SECONDS)
        abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view input(reinterpret_cast<const char*>(data), size);
    size_t nul = input.find('\0');
    std::string_view cmdline_text = nul == std::string_view::npos ? input : input.substr(0, nul);
    std::string_view toml_text = nul == std::string_view::npos ? input : input.substr(nul + 1);

    auto cmdline = parse_cmdline(cmdline_text);
    if (cmdline.ok())
        check_cmdline(cmdline.value());
    auto file = parse_agent_toml(toml_text);
    if (file.ok() && (file->root.empty() || file->root[0] != '/' || file->secrets_dir.rfind("/run/", 0) != 0))
        abort();
    auto deployment = parse_deployment(toml_text);
    if (deployment.ok()) {
        const Deployment& d = deployment.value();
        if ((d.reattest_seconds != 0 &&
             (d.reattest_seconds < MIN_REATTEST_SECONDS || d.reattest_seconds > MAX_REATTEST_SECONDS)) ||
            d.resources.size() > MAX_RESOURCES || d.env.size() > MAX_ENV)
            abort();
        for (const auto& [name, value] : d.env) {
            if (loader_env_name(name) || value.find('\0') != std::string::npos)
                abort();
        }
    }
    if (cmdline.ok() && file.ok() && deployment.ok() && cmdline->initdata != InitdataSource::None) {
        auto merged = merge_config(cmdline.value(), file.value(), &deployment.value());
        if (merged.ok() && (merged->broker_url.empty() || merged->workload_argv.empty()))
            abort();
        if (!merged.ok() && merged.error().code() != cvm::Errc::Config)
            abort();
    }
    if (cmdline.ok() && file.ok()) {
        auto merged = merge_config(cmdline.value(), file.value());
        if (merged.ok() && (merged->workload_argv.empty() || merged->workload_argv[0][0] != '/'))
            abort();
        if (!merged.ok() && merged.error().code() != cvm::Errc::Config)
            abort();
    }
    return 0;
}
