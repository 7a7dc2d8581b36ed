// Stage 9, handoff: switch_root into the workload's tree, start the workload with its
// environment, wipe every secret the agent holds, and stay PID 1 until the workload ends; then
// close the storage, sync and power off with its status on the console. The agent never exits and never execs a
// shell (DESIGN.md §2). Before the fork, the command and its interpreters are checked
// (workload_check.h), so a FATAL line names a missing "#!" interpreter instead of a bare ENOENT.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "api/provider_gate.h"
#include "api/server.h"
#include "base/file.h"
#include "console.h"
#include "fatal.h"
#include "mounts.h"
#include "reattest.h"
#include "stages.h"
#include "supervise.h"
#include "workload_check.h"

namespace cvm::agent {
namespace {

// make_root_dir() as a Result; its hint, the better one on a read-only root, goes to `hint`.
Result<void> make_dir(const std::string& root, const char* name, mode_t mode, std::string& hint)
{
    if (auto problem = make_root_dir(root, name, mode)) {
        hint = problem->hint;
        return problem->error;
    }
    return {};
}

Result<void> move_mount(const std::string& from, const std::string& root, std::string& hint)
{
    std::string to = root + from;
    TRY(make_dir(root, from.c_str() + 1, 0755, hint));
    if (mount(from.c_str(), to.c_str(), nullptr, MS_MOVE, nullptr) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to move %s to %s: %s", from.c_str(), to.c_str(),
                                 strerror(errno));
    return {};
}

// The initramfs is rootfs, which cannot be pivot_root'ed away: like switch_root(8), make the new
// root a mount point (stage storage may have made it one already), move the API filesystems into
// it, move it over "/" and chroot. The initramfs stays in memory, unreachable from the workload.
// A fresh tmpfs on /tmp: a verity root is read-only, and the workload still needs a scratch place.
// `hint` is set for the failures it can name better than NO_WORKLOAD_TREE_HINT.
Result<void> switch_root(const std::string& new_root, std::string& hint)
{
    TRY(make_mount_point(new_root));
    for (const char* api : {"/dev", "/proc", "/sys", "/run"})
        TRY(move_mount(api, new_root, hint));
    std::string tmp = new_root + "/tmp";
    TRY(make_dir(new_root, "tmp", 01777, hint));
    if (mount("tmpfs", tmp.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0)
        return Error::from_errno(Errc::Io, errno, "failed to mount a tmpfs on %s: %s", tmp.c_str(), strerror(errno));
    if (chdir(new_root.c_str()) != 0 || mount(".", "/", nullptr, MS_MOVE, nullptr) != 0 || chroot(".") != 0 ||
        chdir("/") != 0)
        return Error::from_errno(Errc::Io, errno, "failed to switch the root to %s: %s", new_root.c_str(),
                                 strerror(errno));
    return {};
}

// The agent's peak resident memory so far (VmHWM), for the boot benchmark; "?" if unknown.
std::string peak_rss()
{
    auto status = read_text_file("/proc/self/status", 64 * 1024);
    if (!status)
        return "?";
    size_t at = status.value().find("VmHWM:");
    if (at == std::string::npos)
        return "?";
    size_t end = status.value().find('\n', at);
    std::string value = status.value().substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6);
    value.erase(0, value.find_first_not_of(" \t"));
    return value;
}

}  // namespace

void stage_handoff(Context& ctx)
{
    auto started = std::chrono::steady_clock::now();
    std::string rss = peak_rss();  // before the workload: the agent's own
    std::string hint = NO_WORKLOAD_TREE_HINT;
    if (auto moved = switch_root(ctx.root + ctx.workload_root, hint); !moved)
        fatal("handoff", moved.error(), hint.c_str());
    if (!ctx.workload_argv.empty()) {
        if (auto problem = check_executable("", ctx.workload_argv[0]))
            fatal("handoff", problem->error, problem->hint.c_str());
    }
    // One door to the provider from now on, shared by the workload API and re-attestation.
    api::ProviderGate gate(*ctx.provider);
    std::unique_ptr<api::ApiServer> api_server;
    if (ctx.api_enabled) {
        api::ServerConfig config;
        config.group = ctx.api_group;
        auto served = api::serve_workload_api(gate, ctx.report, config);
        if (!served)
            fatal("handoff", served.error(),
                  "the workload API cannot start; [agent_api] enabled = false runs without it");
        api_server = served.release_value();
    }
    Workload workload{ctx.workload_argv, ctx.workload_env, console_fd(),
                      Confinement{ctx.isolation, ctx.workload_user, ctx.workload_group, ConfinePaths{},
                                  ctx.api_enabled ? ctx.api_group : std::nullopt}};
    if (ctx.isolation == cmdline::Isolation::Off)
        say("handoff: isolation off: the workload can reach /dev/sev-guest and configfs-tsm, obtain reports "
            "with any REPORT_DATA and so attest as this agent (cvminit.toml [workload] isolation)");
    static const proto::Release nothing;
    auto child = start_workload(workload, ctx.release ? *ctx.release : nothing);
    ctx.wipe();  // the child has its copy until execve; ours goes now
    if (!child)
        fatal("handoff", child.error(), "check workload.command, user, group and isolation in /etc/cvminit.toml");
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    say("handoff: root %s, workload %s started as pid %d, secrets wiped from the agent, peak RSS %s, API %s (%lld ms)",
        ctx.workload_root.c_str(), ctx.workload_argv[0].c_str(), static_cast<int>(child.value()), rss.c_str(),
        api_server ? api_server->socket_path().c_str() : "off", static_cast<long long>(ms.count()));
    std::unique_ptr<Reattester> reattest;  // cvminit.reattest: heartbeats while the workload runs
    if (ctx.reattest_seconds > 0) {
        ReattestSettings settings{ctx.broker_url,       ctx.broker_key,    ctx.broker_ca_file,
                                  ctx.reattest_seconds, ctx.reattest_fail, child.value()};
        reattest = std::make_unique<Reattester>(std::move(settings), gate);
        reattest->start();
    }
    int status = supervise(child.value());
    if (reattest)
        reattest->stop();
    say("workload %s %s; powering off", ctx.workload_argv[0].c_str(), describe_status(status).c_str());
    if (!ctx.open_mounts.empty() || !ctx.open_mappings.empty())
        say("storage: %s", close_storage(ctx).c_str());
    power_off(reattest && reattest->refused() ? 1 : 0);
}

}  // namespace cvm::agent
