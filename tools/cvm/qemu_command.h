// The QEMU command line that matches a measured launch (DESIGN.md §6, `cvm launch`), from the
// same launch.toml that `cvm measure --launch` reads, so what runs is what was measured:
//
//   hardware   AMD SEV-SNP with measured direct boot: q35 with confidential-guest-support, a
//              memfd memory backend, sev-snp-guest with kernel-hashes=on (QEMU puts the SHA-256
//              of kernel, initrd and cmdline into the measured SEV hashes table), policy=,
//              host-data=, id-block=, id-auth=, author-key-enabled=on from launch.toml
//              (target/i386/sev.c; qapi/qom.json SevSnpGuestProperties), -bios OVMF (AmdSev
//              build), the launch's vCPU count and memory, and the -cpu model of launch_plan.h.
//   simulated  the same kernel, initrd and command line under TCG without SEV (these machines
//              have no KVM and no SEV), plus the simulated PSP's fw_cfg blobs (`cvm sim fw-cfg`).
//              The guest's MEASUREMENT is then the one `cvm measure --launch` computes for the
//              hardware launch, handed in by the simulator.
// Both: launch.toml's init-data document as fw_cfg opt/cvminit/initdata (its absolute path),
// serial console on stdio, no reboot (a guest that powers off or panics ends QEMU),
// user-mode networking with a virtio NIC (the guest reaches the host as 10.0.2.2) with the
// host ports forwarded as asked, and virtio-blk disks as given. Nothing of the options is
// measured.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "launch_plan.h"
#include "measure/launch_toml.h"

namespace cvm::cli {

enum class LaunchMode : uint8_t { Hardware, Simulated };

struct QemuOptions {
    LaunchMode mode{LaunchMode::Hardware};
    std::string qemu = "qemu-system-x86_64";
    std::vector<std::string> fw_cfg_args;  // simulated: from sim::qemu_fw_cfg_args
    std::vector<std::string> disks;        // raw images, attached as virtio-blk in order
    bool network{true};
    std::vector<std::string> hostfwd;  // QEMU's hostfwd rules, each checked by check_hostfwd
};

// The command line of a planned launch. Errc::Config for a hostfwd rule without a network.
Result<std::vector<std::string>> qemu_command(const LaunchPlan& plan, const QemuOptions& options);

// The same, planning the launch first (plan_launch's errors).
Result<std::vector<std::string>> qemu_command(const launch::LaunchConfig& launch, const QemuOptions& options);

// A user-mode network port forward as QEMU's slirp reads it (net/slirp.c: slirp_hostfwd()):
// "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT" with IPv4 dotted addresses and decimal
// ports (host 0..65535, guest 1..65535). Nothing else, so no other -netdev option can ride in
// on it. Errc::Config naming the rule otherwise.
Result<void> check_hostfwd(const std::string& rule);

// One line a shell reads back as the same argv (single quotes where needed).
std::string shell_quote(const std::vector<std::string>& argv);

}  // namespace cvm::cli
