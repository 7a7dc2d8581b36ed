// cvm launch: run (or print) the QEMU command line of a measured launch, relay the guest's
// console, and exit with the agent's outcome.
#include <algorithm>
#include <csignal>
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "initdata_file.h"
#include "launch_outcome.h"
#include "launch_plan.h"
#include "qemu_command.h"
#include "qemu_run.h"
#include "sim/fw_cfg.h"
#include "sim/platform_dir.h"

namespace cvm::cli {
namespace {

constexpr const char* USAGE = R"(usage: cvm launch --launch launch.toml [--simulate SIMDIR --fw-cfg-dir DIR] [options]

Starts QEMU with exactly the launch that `cvm measure --launch` measures: the same firmware,
kernel, initrd, command line and vCPUs from launch.toml, and the report fields launch.toml sets
(policy, host_data, the [id_block] signed for this MEASUREMENT, author_key_enabled) as QEMU's
sev-snp-guest properties. With `initdata = "FILE"`, HOST_DATA is that init-data document's and
the document goes to the guest as fw_cfg opt/cvminit/initdata (docs/initdata.md). Prints the MEASUREMENT on stderr before QEMU starts. Refuses, naming
the key, whatever QEMU would launch differently from what is measured: a mode other than snp, a
vmm_type other than QEMU, guest_features other than 0x1, a precomputed firmware.snp_ovmf_hash,
or a vCPU that is not one of QEMU's measured -cpu models (vcpu_type) or whose signature
(vcpu_sig, vcpu_family/model/stepping) no such model has.

  --launch FILE       the launch description (its [kernel] section is required)
  --simulate SIMDIR   run under TCG without SEV, with the SIMULATED platform of `cvm sim init`
                      handing the guest its PSP through fw_cfg: its reports carry the same
                      MEASUREMENT, policy, host_data and ID block fields as the hardware launch
                      of this launch.toml (for development and CI only)
  --fw-cfg-dir DIR    where the simulated platform's fw_cfg blobs are written (with --simulate)
  --disk FILE         attach a raw image as a virtio-blk disk (repeatable, in order)
  --hostfwd RULE      forward a host port to the guest, QEMU's syntax (repeatable):
                      [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, e.g. tcp:127.0.0.1:8080-:80
  --no-network        no NIC (by default user-mode networking; the host is 10.0.2.2)
  --qemu PATH         the QEMU binary (default qemu-system-x86_64)
  --print             print the command line instead of running it

Without --simulate the command is for AMD SEV-SNP hardware: sev-snp-guest with
kernel-hashes=on, OVMF as -bios, KVM. Policy, host data and the ID block come from launch.toml
only (cvm sim's --policy, --host-data, ... flags are not taken here). Disks, ports and memory
are not measured.

QEMU keeps stdin; its console (stdout) is relayed unchanged to stdout while the agent's final
line is read. SIGINT and SIGTERM are passed on to QEMU.

exit status: the workload's own when it ran (0..255, 128+N when killed by signal N);
  125 the boot ended in the agent's FATAL line (the workload never ran);
  126 QEMU ended without the agent's final line (QEMU failed or was stopped, or the guest hung up);
  0 with --print; 2 usage or input error (QEMU not started)
)";

int fail(const Error& e)
{
    return usage_failure("launch", e);
}

const std::vector<FlagSpec> FLAGS = {
    {"launch", Takes::Value},   {"simulate", Takes::Value},     {"fw-cfg-dir", Takes::Value}, {"disk", Takes::Values},
    {"hostfwd", Takes::Values}, {"no-network", Takes::Nothing}, {"qemu", Takes::Value},       {"print", Takes::Nothing},
};

Result<std::vector<std::string>> command(const Args& args)
{
    auto path = args.get("launch");
    if (!path)
        return Error::make(Errc::Config, "needs --launch launch.toml");
    LaunchPlan plan = TRY_PREFIX(plan_launch(TRY(launch::load_launch_toml(*path))), "%s", path->c_str());
    // launch.toml has checked the document and taken its HOST_DATA; its deployment settings are
    // checked here too, so a document the agent would refuse stops the launch before QEMU.
    if (plan.config.initdata) {
        TRY_PREFIX(load_initdata(*plan.config.initdata), "%s: launch.toml key 'initdata'", path->c_str());
        // Only the measured cvminit.initdata makes the agent read the document; another guest
        // may read fw_cfg itself, so this is a note, not a refusal.
        const auto& words = plan.config.cmdline;
        if (std::none_of(words.begin(), words.end(),
                         [](const std::string& w) { return w.starts_with("cvminit.initdata="); }))
            fprintf(stderr,
                    "cvm launch: note: %s has initdata but its kernel.cmdline no cvminit.initdata=fw_cfg: "
                    "cvminit will not read the document\n",
                    path->c_str());
    }
    fprintf(stderr, "cvm launch: MEASUREMENT %s (cvm measure --launch %s)\n", to_hex(plan.measurement).c_str(),
            path->c_str());
    QemuOptions options;
    options.qemu = args.get("qemu").value_or(options.qemu);
    options.disks = args.all("disk");
    options.hostfwd = args.all("hostfwd");
    options.network = !args.has("no-network");
    if (auto sim_dir = args.get("simulate")) {
        auto out = args.get("fw-cfg-dir");
        if (!out)
            return Error::make(Errc::Config, "--simulate needs --fw-cfg-dir DIR for the simulated PSP's blobs");
        sim::Platform platform = TRY(sim::read_platform(*sim_dir));
        TRY(sim::write_fw_cfg_files(platform, sim_launch_state(plan.config, plan.measurement, plan.id_block), *out));
        options.mode = LaunchMode::Simulated;
        options.fw_cfg_args = sim::qemu_fw_cfg_args(*out);
    } else if (args.has("fw-cfg-dir")) {
        return Error::make(Errc::Config, "--fw-cfg-dir is for --simulate");
    }
    return qemu_command(plan, options);
}

}  // namespace

int cmd_launch(const std::vector<std::string>& argv)
{
    auto parsed = parse_command("launch", argv, FLAGS, USAGE, Positional::None);
    if (const int* status = std::get_if<int>(&parsed))
        return *status;
    const Args& args = std::get<Args>(parsed);
    auto cmd = command(args);
    if (!cmd.ok())
        return fail(cmd.error());
    if (args.has("print")) {
        printf("%s\n", shell_quote(cmd.value()).c_str());
        return EXIT_OK;
    }
    LaunchOutcome outcome;
    auto qemu = run_relayed(cmd.value(), outcome);
    if (!qemu.ok())
        return fail(qemu.error());
    std::string how = describe_wait(qemu.value().wait_status);
    if (int sig = qemu.value().signal_forwarded; sig != 0 && outcome.kind() == LaunchOutcome::Kind::None) {
        // Interrupted by the user: end as a shell expects of a command killed by that signal.
        fprintf(stderr, "cvm launch: interrupted by signal %d, passed on to QEMU (QEMU %s)\n", sig, how.c_str());
        signal(sig, SIG_DFL);
        raise(sig);
        return 128 + sig;
    }
    switch (outcome.kind()) {
    case LaunchOutcome::Kind::Workload:
        fprintf(stderr, "cvm launch: the workload's status %d (QEMU %s): %s\n", outcome.workload_status(), how.c_str(),
                outcome.line().c_str());
        break;
    case LaunchOutcome::Kind::Fatal:
        fprintf(stderr, "cvm launch: the boot ended in FATAL, exit status %d (QEMU %s): %s\n", LAUNCH_EXIT_FATAL,
                how.c_str(), outcome.line().c_str());
        break;
    case LaunchOutcome::Kind::None:
        fprintf(stderr, "cvm launch: no final line from the agent, exit status %d (QEMU %s)\n", LAUNCH_EXIT_NO_OUTCOME,
                how.c_str());
        break;
    }
    return outcome.exit_status();
}

}  // namespace cvm::cli
