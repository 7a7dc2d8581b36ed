// cvminit: PID 1 of the measured initramfs. The boot is this flat list of stages (DESIGN.md §2);
// each logs one line with its duration, and the first failure takes the single fatal path:
// one FATAL line, every secret wiped, power off. No attestation, no workload.
#include <chrono>

#include "console.h"
#include "fatal.h"
#include "stages.h"

namespace {

using namespace cvm::agent;

template <typename Stage>
void run(Context& ctx, const char* name, const char* hint, Stage stage)
{
    auto started = std::chrono::steady_clock::now();
    auto summary = stage(ctx);
    if (!summary)
        fatal(name, summary.error(), ctx.fail_hint ? ctx.fail_hint : hint);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    say("%s: %s (%lld ms)", name, summary.value().c_str(), static_cast<long long>(ms.count()));
}

}  // namespace

int main()
{
    Context ctx;
    set_wipe_hook([&ctx] { ctx.wipe(); });
    run(ctx, "early", "the kernel needs devtmpfs, proc, sysfs and tmpfs", stage_early);
    run(ctx, "config", "fix the cvminit.* parameters or /etc/cvminit.toml (cvm cmdline check)", stage_config);
    run(ctx, "modules", "rebuild the initramfs for this kernel (cvm initramfs --kernel-modules)", stage_modules);
    if (ctx.initdata != cvm::cmdline::InitdataSource::None)  // cvminit.initdata=fw_cfg; else no report, no fw_cfg
        run(ctx, "initdata", "check the init-data document and the launch's host-data (docs/initdata.md)",
            stage_initdata);
    run(ctx, "network", "check the VM's NIC and DHCP, or set cvminit.net=static", stage_network);
    if (ctx.data)  // its header's claim goes into the attested request
        run(ctx, "volume", "check the disk attached as cvminit.data: it must be blank or a LUKS2 volume of cvminit",
            stage_volume);
    run(ctx, "attest", "is cvminit.broker reachable, and is this an SNP guest (cvminit.simulate=1 in development)?",
        stage_attest);
    run(ctx, "retrieve", "the broker's log carries the same code; is cvminit.broker_key the broker's key?",
        stage_retrieve);
    run(ctx, "secrets", "is /run a writable tmpfs?", stage_secrets);
    run(ctx, "storage", "check the disks the host attached and the cvminit.verity.* and cvminit.data parameters",
        stage_storage);
    stage_handoff(ctx);
}
