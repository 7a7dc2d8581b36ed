// What a failed module load means, decided from facts the modules stage gathers, so that the
// decision is testable without a kernel (tests/unit/agent/test_module_failure.cc).
//
// sev-guest is the one module whose failure can be expected: one initramfs serves the simulated
// platform (QEMU TCG) and SEV-SNP hardware. Its init is module_platform_driver_probe()
// (drivers/virt/coco/sev-guest/sev-guest.c), i.e. __platform_driver_probe()
// (drivers/base/platform.c), which returns -ENODEV whenever no device ended up bound to the
// driver -- both when there is no "sev-guest" platform device and when sev_guest_probe() failed
// on it (the driver core logs the probe's own error and does not return it). The two are told
// apart by the device: arch/x86/coco/sev/core.c: snp_init_platform_device() registers the
// "sev-guest" platform device (id -1, so /sys/bus/platform/devices/sev-guest) only when
// cc_platform_has(CC_ATTR_GUEST_SEV_SNP), i.e. on an SEV-SNP guest (6.12 and mainline alike).
//   no device, cvminit.simulate=1  not fatal: simulation goes on without /dev/sev-guest
//   no device, otherwise           FATAL: this is not an SEV-SNP guest
//   a device                       FATAL: the probe failed on a real SNP guest; on 6.12 the usual
//                                  cause is gcm(aes) missing (the 6.12 probe allocates it through
//                                  the crypto API, which would need modprobe)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cvm::agent {

inline constexpr const char* SEV_GUEST_DEVICE = "/sys/bus/platform/devices/sev-guest";

struct ModuleFacts {
    bool simulate{false};
    bool sev_guest_device{false};       // SEV_GUEST_DEVICE exists
    std::string release;                // uname -r
    std::vector<std::string> releases;  // the directories below the initramfs's /lib/modules
};

enum class LoadStep : uint8_t { Open, Load };  // open(2) of the file, or finit_module(2)

struct ModuleVerdict {
    bool fatal{true};
    std::string text;  // fatal: the hint for the FATAL line; else a note for the stage's summary
};

// `path` is the module file as listed in /etc/cvminit/modules; `err` the errno of `step`.
ModuleVerdict judge_module_failure(std::string_view path, LoadStep step, int err, const ModuleFacts& facts);

// "kernel/drivers/virt/coco/sev-guest/sev-guest.ko.xz" -> "sev_guest" (as the kernel names it).
std::string module_name_of(std::string_view path);

}  // namespace cvm::agent
