// cvm demo: the whole product on this machine (DESIGN.md §9), SIMULATED: a simulated AMD platform,
// the reference broker in this process, the initramfs with the agent, a dm-verity root holding
// the demo workload and a blank data disk, and the real Debian kernel booted twice in QEMU (TCG)
// with exactly the launch whose MEASUREMENT the broker's policy allows. The first boot formats
// the encrypted data volume, the second opens it and shows what the first wrote. The agent's
// stage lines, the broker's verdicts and the workload's output all show on this terminal.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "args.h"
#include "base/file.h"
#include "broker.h"
#include "commands.h"
#include "demo_disks.h"
#include "demo_files.h"
#include "initramfs/layout.h"
#include "initramfs/sink.h"
#include "kernel-cmdline/cmdline.h"
#include "launch_outcome.h"
#include "net/http_server.h"
#include "qemu_command.h"
#include "qemu_run.h"
#include "sim/chain.h"
#include "sim/fw_cfg.h"
#include "sim/platform_dir.h"
#include "sim_launch.h"

namespace cvm::cli {
namespace {

constexpr const char* USAGE =
    R"(usage: cvm demo --kernel VMLINUZ --kernel-modules DIR --ovmf OVMF --agent CVMINIT --workload PROGRAM [options]

The whole of cvminit on one machine, SIMULATED (no SEV hardware, no confidentiality): makes a
simulated AMD platform, a read-only ext4 root holding the workload with its dm-verity tree
(reproducibly: mke2fs -d, e2fsprogs), and a blank data disk; runs the reference broker in this
process with a policy that allows exactly this launch's MEASUREMENT (computed as
`cvm measure --launch` does, for the AmdSev firmware given) and releases the secrets and the data
volume's key to it; builds the initramfs (agent, config, modules); and boots the kernel in QEMU
(TCG) twice with the same disks. The first boot formats the LUKS2 data volume and the workload
writes to it; the second opens it and the workload shows what the first wrote.

  --kernel VMLINUZ       the kernel to boot (Debian's linux-image-amd64)
  --kernel-modules DIR   its lib/modules/<release> directory, indexed by depmod
  --ovmf FILE            OVMF.amdsev.fd: measured, as on hardware (TCG boots without it)
  --agent FILE           the static cvminit binary
  --workload FILE        the static demo workload (cvminit-demo-workload)
  --work-dir DIR         keep the generated files here (default: a temporary directory, removed).
                         A rerun in DIR keeps sim/, broker.key, data.key and data.img (so the
                         MEASUREMENT stays and the boots open the volume earlier runs wrote; delete
                         data.img to start blank) and rewrites the rest; DIR/broker.toml runs as
                         `cvm broker --config DIR/broker.toml`
  --no-storage           the minimal demo: one boot, the workload from the initramfs, no disks
  --qemu PATH            the QEMU binary (default qemu-system-x86_64)

exit status: 0 when in every boot the broker released and the workload exited 0, 1 otherwise,
2 usage or input error
)";

constexpr uint64_t DATA_DISK_BYTES = 256ull << 20;  // sparse: the agent writes only metadata

int fail(const Error& e)
{
    return usage_failure("demo", e);
}

// A loopback port nobody uses right now (the one asked for, when it is free); the guest reaches it
// as 10.0.2.2 through QEMU's slirp.
Result<uint16_t> free_port(uint16_t wanted)
{
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(wanted);
    socklen_t len = sizeof addr;
    // As the broker's own listener: an earlier run's connections in TIME_WAIT do not take the port.
    int one = 1;
    if (fd.valid())
        setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd.valid() && wanted != 0 && bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
        return wanted;
    addr.sin_port = 0;
    if (!fd.valid() || bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot find a free loopback port: %s", strerror(errno));
    return ntohs(addr.sin_port);
}

Result<void> build_initrd(const Args& args, const std::string& work, DemoStorage storage)
{
    initramfs::LayoutInputs in;
    in.agent = *args.get("agent");
    in.config = work + "/cvminit.toml";
    in.kernel_modules = *args.get("kernel-modules");
    // One initramfs for both worlds, as a real image: sev-guest finds no SNP device under TCG, and
    // the agent goes on only because the measured command line says cvminit.simulate=1.
    in.platforms = {initramfs::Platform::Snp, initramfs::Platform::Sim};
    if (storage == DemoStorage::VerityAndData)
        in.modules.insert(in.modules.end(), {"virtio_blk", "dm_crypt", "dm_verity", "xts", "crc32c_generic", "ext4"});
    else
        in.root = work + "/tree";
    initramfs::Layout layout = TRY(initramfs::build_layout(in));
    auto sink = TRY(initramfs::FileSink::create(work + "/initrd"));
    return layout.archive.write(sink, 0);  // finishes the sink: fsync and rename
}

// The sum of the broker's cvmkb_attests_total{outcome="released",...} counters.
uint64_t releases(const broker::Broker& b)
{
    const std::string family = "\ncvmkb_attests_total{outcome=\"released\"";
    std::string text = "\n" + b.metrics_text();
    uint64_t total = 0;
    for (size_t at = text.find(family); at != std::string::npos; at = text.find(family, at + 1)) {
        size_t space = text.find(' ', text.find('}', at));
        total += strtoull(text.c_str() + space + 1, nullptr, 10);
    }
    return total;
}

// Everything the boots need: the disks, the initrd, the launch and its MEASUREMENT.
struct Prepared {
    sim::Platform platform;
    sim::LaunchState launch;
    uint16_t port{0};
    std::vector<std::string> disks;
};

Result<std::vector<std::string>> make_disks(const Args& args, const std::string& work, cmdline::AgentCmdline& words)
{
    words.verity = TRY(make_root_disks(work, *args.get("workload")));
    printf("demo: read-only root %s/root.img (ext4, mke2fs -d), dm-verity root hash %s in %s/root.hash\n", work.c_str(),
           to_hex(words.verity->root_hash).c_str(), work.c_str());
    cmdline::DataVolume data;
    data.device = "/dev/vdc";
    words.data = data;
    bool fresh = TRY(make_data_disk(work, DATA_DISK_BYTES));
    if (fresh)
        printf("demo: data disk %s/data.img (%llu MiB, sparse, blank: the first boot formats it)\n", work.c_str(),
               static_cast<unsigned long long>(DATA_DISK_BYTES >> 20));
    else
        printf("demo: data disk %s/data.img kept from an earlier run: every boot opens it (delete it to start "
               "blank)\n",
               work.c_str());
    return std::vector<std::string>{work + "/root.img", work + "/root.hash", work + "/data.img"};
}

Result<Prepared> prepare(const Args& args, const std::string& work, DemoStorage storage)
{
    Prepared p;
    p.platform = TRY(demo_platform(work));
    proto::Ed25519KeyPair key = TRY(demo_broker_key(work));
    cmdline::AgentCmdline words;
    if (storage == DemoStorage::VerityAndData) {
        TRY(demo_volume_key(work));
        p.disks = TRY(make_disks(args, work, words));
    }
    TRY(write_demo_tree(work, *args.get("workload"), storage));
    TRY(build_initrd(args, work, storage));

    p.port = TRY(free_port(earlier_port(work).value_or(0)));
    words.broker_url = "http://10.0.2.2:" + std::to_string(p.port);
    words.broker_key = key.public_key();
    words.simulate = true;
    std::string cmdline = "console=ttyS0 panic=-1 quiet " + cmdline::compose_cmdline(words);
    TRY(write_demo_launch(work, *args.get("kernel"), *args.get("ovmf"), cmdline));
    p.launch.measurement = TRY(measure_launch(work + "/launch.toml"));
    printf("demo: launch MEASUREMENT %s (cvm measure --launch %s/launch.toml)\n", to_hex(p.launch.measurement).c_str(),
           work.c_str());
    TRY(write_demo_broker_config(work, p.port, to_hex(p.launch.measurement), storage));
    return p;
}

Result<int> run(const Args& args, const std::string& work)
{
    for (const char* required : {"kernel", "kernel-modules", "ovmf", "agent", "workload"}) {
        if (!args.has(required))
            return Error::make(Errc::Config, "needs --%s (see cvm demo --help)", required);
    }
    DemoStorage storage = args.has("no-storage") ? DemoStorage::None : DemoStorage::VerityAndData;
    printf("demo: SIMULATED platform, broker and VM in %s\n", work.c_str());
    Prepared p = TRY(prepare(args, work, storage));

    // The broker reads its configuration as `cvm broker --config` does: the file is the template.
    broker::BrokerConfig config = TRY(broker::load_broker_config(work + "/broker.toml"));
    net::ServerOptions server_options = config.server;
    auto broker = TRY(broker::Broker::create(std::move(config)));
    broker::Broker* b = broker.get();
    auto server = TRY(net::HttpServer::start(server_options, [b](const net::HttpRequest& r) { return b->handle(r); }));
    printf("demo: broker on 127.0.0.1:%u (the guest's 10.0.2.2:%u), releasing 2 secrets%s to that MEASUREMENT only "
           "(%s/broker.toml)\n",
           p.port, p.port, storage == DemoStorage::None ? "" : " and the volume key \"data\"", work.c_str());

    TRY(sim::write_fw_cfg_files(p.platform, p.launch, work + "/fw_cfg"));
    QemuOptions options;
    options.mode = LaunchMode::Simulated;
    options.qemu = args.get("qemu").value_or(options.qemu);
    options.fw_cfg_args = sim::qemu_fw_cfg_args(work + "/fw_cfg");
    options.disks = p.disks;
    std::vector<std::string> qemu = TRY(qemu_command(TRY(launch::load_launch_toml(work + "/launch.toml")), options));

    int boots = storage == DemoStorage::None ? 1 : 2;
    bool all_ok = true;
    for (int boot = 1; boot <= boots; ++boot) {
        printf("demo: boot %d of %d: %s in QEMU (TCG)%s\n", boot, boots, args.get("kernel")->c_str(),
               boot == 2 ? ", the same disks again" : "");
        fflush(stdout);
        uint64_t before = releases(*b);
        auto started = std::chrono::steady_clock::now();
        LaunchOutcome outcome;
        Relayed relayed = TRY(run_relayed(qemu, outcome));
        int status = relayed.wait_status;
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        bool released = releases(*b) > before;
        bool workload_ok = outcome.kind() == LaunchOutcome::Kind::Workload && outcome.workload_status() == 0;
        printf("demo: boot %d: QEMU %s after %.1f s; the broker %s; %s\n", boot, describe_wait(status).c_str(), seconds,
               released ? "released the secrets to the attested VM" : "released nothing",
               outcome.kind() == LaunchOutcome::Kind::Workload
                   ? ("the workload exited with status " + std::to_string(outcome.workload_status())).c_str()
                   : (outcome.kind() == LaunchOutcome::Kind::Fatal ? "the boot ended in FATAL"
                                                                   : "no final line from the agent"));
        all_ok = all_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0 && released && workload_ok;
        if (relayed.signal_forwarded != 0) {
            printf("demo: interrupted by signal %d: no further boots\n", relayed.signal_forwarded);
            break;
        }
    }
    server->stop();
    if (args.has("work-dir"))
        printf("demo: by hand: cvm broker --config %s/broker.toml, then cvm launch --launch %s/launch.toml --simulate "
               "%s/sim --fw-cfg-dir %s/fw_cfg%s\n",
               work.c_str(), work.c_str(), work.c_str(), work.c_str(),
               storage == DemoStorage::None
                   ? ""
                   : (" --disk " + p.disks[0] + " --disk " + p.disks[1] + " --disk " + p.disks[2]).c_str());
    return all_ok ? 0 : 1;
}

}  // namespace

int cmd_demo(const std::vector<std::string>& argv)
{
    const std::vector<FlagSpec> flags = {{"kernel", Takes::Value},   {"kernel-modules", Takes::Value},
                                         {"ovmf", Takes::Value},     {"agent", Takes::Value},
                                         {"workload", Takes::Value}, {"work-dir", Takes::Value},
                                         {"qemu", Takes::Value},     {"no-storage", Takes::Nothing}};
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
