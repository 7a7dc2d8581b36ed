// cvm demo: the whole product on this machine (DESIGN.md §9), SIMULATED: a simulated AMD platform,
// the reference broker in this process, the initramfs with the agent and a demo workload, and the
// real Debian kernel booted in QEMU (TCG) with exactly the launch whose MEASUREMENT the broker's
// policy allows. The agent's stage lines, the broker's verdict and the workload's output all show
// on this terminal; the VM powers off with the workload's exit status.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "args.h"
#include "base/file.h"
#include "broker.h"
#include "commands.h"
#include "demo_files.h"
#include "initramfs/layout.h"
#include "initramfs/sink.h"
#include "kernel-cmdline/cmdline.h"
#include "net/http_server.h"
#include "qemu_command.h"
#include "sim/chain.h"
#include "sim/fw_cfg.h"
#include "sim/platform_dir.h"
#include "sim_launch.h"

namespace cvm::cli {
namespace {

constexpr const char* USAGE =
    R"(usage: cvm demo --kernel VMLINUZ --kernel-modules DIR --ovmf OVMF --agent CVMINIT --workload PROGRAM [options]

The whole of cvminit on one machine, SIMULATED (no SEV hardware, no confidentiality): makes a
simulated AMD platform, runs the reference broker in this process with a policy that allows
exactly this launch's MEASUREMENT (computed as `cvm measure --launch` does, for the AmdSev
firmware given), builds the initramfs (agent, config, virtio_net/qemu_fw_cfg/configfs modules,
the workload), and boots the kernel in QEMU (TCG). Shows the agent's stages, the broker's
verdict, and the workload printing the secrets it received.

  --kernel VMLINUZ       the kernel to boot (Debian's linux-image-amd64)
  --kernel-modules DIR   its lib/modules/<release> directory, indexed by depmod
  --ovmf FILE            OVMF.amdsev.fd: measured, as on hardware (TCG boots without it)
  --agent FILE           the static cvminit binary
  --workload FILE        the static demo workload (cvminit-demo-workload)
  --work-dir DIR         keep the generated files here (default: a temporary directory, removed)
  --qemu PATH            the QEMU binary (default qemu-system-x86_64)

exit status: 0 when the workload ran and the VM powered off, 1 otherwise, 2 usage error
)";

int fail(const Error& e)
{
    return usage_failure("demo", e);
}

// A loopback port nobody uses right now; the guest reaches it as 10.0.2.2 through QEMU's slirp.
Result<uint16_t> free_port()
{
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (!fd.valid() || bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot find a free loopback port: %s", strerror(errno));
    return ntohs(addr.sin_port);
}

Result<void> build_initrd(const Args& args, const std::string& work)
{
    initramfs::LayoutInputs in;
    in.agent = *args.get("agent");
    in.config = work + "/cvminit.toml";
    in.kernel_modules = *args.get("kernel-modules");
    in.modules = {"virtio_net", "qemu_fw_cfg", "configfs"};
    in.root = work + "/tree";
    initramfs::Layout layout = TRY(initramfs::build_layout(in));
    auto sink = TRY(initramfs::FileSink::create(work + "/initrd"));
    return layout.archive.write(sink, 0);  // finishes the sink: fsync and rename
}

Result<int> boot(const std::vector<std::string>& argv)
{
    pid_t pid = fork();
    if (pid < 0)
        return Error::from_errno(Errc::Io, errno, "cannot fork QEMU: %s", strerror(errno));
    if (pid == 0) {
        std::vector<char*> a;
        for (const std::string& s : argv)
            a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        execvp(a[0], a.data());
        fprintf(stderr, "cvm demo: cannot run %s: %s\n", a[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Result<int> run(const Args& args, const std::string& work)
{
    for (const char* required : {"kernel", "kernel-modules", "ovmf", "agent", "workload"}) {
        if (!args.has(required))
            return Error::make(Errc::Config, "needs --%s (see cvm demo --help)", required);
    }
    printf("demo: SIMULATED platform, broker and VM in %s\n", work.c_str());
    sim::Platform platform = TRY(sim::create_platform({}));
    TRY(sim::write_platform(platform, work + "/sim"));
    proto::Ed25519KeyPair key = proto::Ed25519KeyPair::generate();
    TRY(write_file_atomic(work + "/broker.key", proto::ed25519_private_pem(key).expose(), 0600));
    TRY(write_demo_tree(work, *args.get("workload")));
    TRY(build_initrd(args, work));

    uint16_t port = TRY(free_port());
    cmdline::AgentCmdline words;
    words.broker_url = "http://10.0.2.2:" + std::to_string(port);
    words.broker_key = key.public_key();
    words.simulate = true;
    std::string cmdline = "console=ttyS0 panic=-1 quiet " + cmdline::compose_cmdline(words);
    TRY(write_demo_launch(work, *args.get("kernel"), *args.get("ovmf"), cmdline));
    sim::LaunchState launch;
    launch.measurement = TRY(measure_launch(work + "/launch.toml"));
    printf("demo: launch MEASUREMENT %s (cvm measure --launch %s/launch.toml)\n", to_hex(launch.measurement).c_str(),
           work.c_str());

    broker::BrokerConfig config =
        TRY(broker::parse_broker_config(demo_broker_config(port, to_hex(launch.measurement)), work));
    net::ServerOptions server_options = config.server;
    auto broker = TRY(broker::Broker::create(std::move(config)));
    broker::Broker* b = broker.get();
    auto server = TRY(net::HttpServer::start(server_options, [b](const net::HttpRequest& r) { return b->handle(r); }));
    printf("demo: broker on 127.0.0.1:%u (the guest's 10.0.2.2:%u), releasing 2 secrets to that MEASUREMENT only\n",
           port, port);

    TRY(sim::write_fw_cfg_files(platform, launch, work + "/fw_cfg"));
    QemuOptions options;
    options.mode = LaunchMode::Simulated;
    options.qemu = args.get("qemu").value_or(options.qemu);
    options.fw_cfg_args = sim::qemu_fw_cfg_args(work + "/fw_cfg");
    std::vector<std::string> qemu = TRY(qemu_command(TRY(launch::load_launch_toml(work + "/launch.toml")), options));
    printf("demo: booting %s in QEMU (TCG)\n", args.get("kernel")->c_str());
    fflush(stdout);
    int status = TRY(boot(qemu));
    server->stop();
    bool released = b->metrics_text().find("outcome=\"released\"") != std::string::npos;
    printf("demo: QEMU exited with status %d%s; the broker %s\n", status, status == 0 ? " (the VM powered off)" : "",
           released ? "released the secrets to the attested VM" : "released nothing");
    return status == 0 && released ? 0 : 1;
}

}  // namespace

int cmd_demo(const std::vector<std::string>& argv)
{
    const std::vector<FlagSpec> flags = {
        {"kernel", Takes::Value},   {"kernel-modules", Takes::Value}, {"ovmf", Takes::Value}, {"agent", Takes::Value},
        {"workload", Takes::Value}, {"work-dir", Takes::Value},       {"qemu", Takes::Value}};
    auto parsed = parse_command("demo", argv, flags, USAGE, Positional::None);
    if (const int* status = std::get_if<int>(&parsed))
        return *status;
    const Args& args = std::get<Args>(parsed);
    auto work = make_work_dir(args.get("work-dir"));
    if (!work.ok())
        return fail(work.error());
    auto status = run(args, work.value());
    if (!args.has("work-dir"))
        remove_tree(work.value());
    if (!status.ok())
        return fail(status.error());
    return status.value() == 0 ? EXIT_OK : EXIT_REJECTED;
}

}  // namespace cvm::cli
