// cvm launch: run (or print) the QEMU command line of a measured launch.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "args.h"
#include "commands.h"
#include "qemu_command.h"
#include "sim/fw_cfg.h"
#include "sim/platform_dir.h"
#include "sim_launch.h"

namespace cvm::cli {
namespace {

constexpr const char* USAGE = R"(usage: cvm launch --launch launch.toml [--simulate SIMDIR --fw-cfg-dir DIR] [options]

Starts QEMU with exactly the launch that `cvm measure --launch` measures: the same firmware,
kernel, initrd, command line, vCPUs and memory from launch.toml.

  --launch FILE       the launch description (its [kernel] section is required)
  --simulate SIMDIR   run under TCG without SEV, with the SIMULATED platform of `cvm sim init`
                      handing the guest its PSP through fw_cfg; the reported MEASUREMENT is the
                      one the hardware launch would have (for development and CI only)
  --fw-cfg-dir DIR    where the simulated platform's fw_cfg blobs are written (with --simulate)
  --policy N          GUEST_POLICY of the simulated launch (and --host-data, --family-id,
                      --image-id, --guest-svn, --platform-info as in cvm sim)
  --disk FILE         attach a raw image as a virtio-blk disk (repeatable, in order)
  --no-network        no NIC (by default user-mode networking; the host is 10.0.2.2)
  --qemu PATH         the QEMU binary (default qemu-system-x86_64)
  --print             print the command line instead of running it

Without --simulate the command is for AMD SEV-SNP hardware: sev-snp-guest with
kernel-hashes=on, OVMF as -bios, KVM.

exit status: QEMU's own when it runs; 0 with --print; 2 usage or input error
)";

int fail(const Error& e)
{
    return usage_failure("launch", e);
}

std::vector<FlagSpec> flags()
{
    std::vector<FlagSpec> f = {{"simulate", Takes::Value},     {"fw-cfg-dir", Takes::Value}, {"disk", Takes::Values},
                               {"no-network", Takes::Nothing}, {"qemu", Takes::Value},       {"print", Takes::Nothing}};
    // --launch, --policy, ... as `cvm sim` spells them; --measurement makes no sense here.
    for (const FlagSpec& s : sim_launch_flags()) {
        if (s.name != "measurement")
            f.push_back(s);
    }
    return f;
}

Result<std::vector<std::string>> command(const Args& args)
{
    auto path = args.get("launch");
    if (!path)
        return Error::make(Errc::Config, "needs --launch launch.toml");
    launch::LaunchConfig config = TRY(launch::load_launch_toml(*path));
    QemuOptions options;
    options.qemu = args.get("qemu").value_or(options.qemu);
    options.disks = args.all("disk");
    options.network = !args.has("no-network");
    if (auto sim_dir = args.get("simulate")) {
        auto out = args.get("fw-cfg-dir");
        if (!out)
            return Error::make(Errc::Config, "--simulate needs --fw-cfg-dir DIR for the simulated PSP's blobs");
        sim::Platform platform = TRY(sim::read_platform(*sim_dir));
        sim::LaunchState state = TRY(launch_state_from_flags(args));
        TRY(sim::write_fw_cfg_files(platform, state, *out));
        options.mode = LaunchMode::Simulated;
        options.fw_cfg_args = sim::qemu_fw_cfg_args(*out);
    } else if (args.has("fw-cfg-dir")) {
        return Error::make(Errc::Config, "--fw-cfg-dir is for --simulate");
    }
    return qemu_command(config, options);
}

}  // namespace

int cmd_launch(const std::vector<std::string>& argv)
{
    auto parsed = parse_command("launch", argv, flags(), USAGE, Positional::None);
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
    std::vector<char*> exec_argv;
    for (std::string& a : cmd.value())
        exec_argv.push_back(a.data());
    exec_argv.push_back(nullptr);
    execvp(exec_argv[0], exec_argv.data());
    return fail(Error::from_errno(Errc::Io, errno, "cannot run %s: %s", exec_argv[0], strerror(errno)));
}

}  // namespace cvm::cli
