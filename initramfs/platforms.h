// Module presets: what each platform needs loaded at boot, including what modules.dep cannot
// show. `cvm initramfs --platform snp|sim` (repeatable) puts these before the --module names.
//
//   snp  sev-guest (the SNP guest driver: /dev/sev-guest and the configfs-tsm provider), the
//        configfs-tsm report module (`tsm`, drivers/virt/coco/tsm.c, up to 6.15; `tsm_report`,
//        drivers/virt/coco/guest/report.c, from 6.16: whichever the kernel has), configfs, and
//        on kernels up to 6.12 the GCM crypto: the 6.12 driver calls crypto_alloc_aead("gcm(aes)")
//        in its probe (drivers/virt/coco/sev-guest/sev-guest.c: init_crypto(), called from
//        sev_guest_probe()), which the kernel would resolve through /sbin/modprobe -- absent
//        from the initramfs -- so `gcm` and `ghash_generic` (and through
//        modules.dep crypto_null and gf128mul) must be loaded first. From 6.13 the driver uses the
//        AES-GCM library (lib/crypto/aesgcm.c: aesgcm_expandkey()), a symbol dependency that
//        modules.dep resolves: nothing to add. ctr and aes are built into Debian's kernel; when a
//        kernel has them as modules they are added too. Then qemu_fw_cfg when the kernel has it:
//        cvminit.initdata=fw_cfg reads the init-data document from QEMU's fw_cfg (the module
//        loads without a fw_cfg device too: drivers/firmware/qemu_fw_cfg.c fw_cfg_sysfs_init()
//        only registers the platform driver).
//   sim  qemu_fw_cfg (the simulated provider reads the host's report through fw_cfg) and
//        virtio_net (QEMU's NIC).
// A name the kernel builds in (modules.builtin) needs nothing: resolve() reports it as built in.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "initramfs/modules.h"

namespace cvm::initramfs {

enum class Platform : uint8_t { Snp, Sim };

// "snp" or "sim"; Errc::Config naming the value otherwise.
Result<Platform> parse_platform(std::string_view name);

struct KernelRelease {
    unsigned major{0};
    unsigned minor{0};
    bool operator<(const KernelRelease& o) const { return major != o.major ? major < o.major : minor < o.minor; }
};

// The MAJOR.MINOR at the start of a kernel release ("6.12.117+deb13-amd64" -> 6.12); Errc::Config
// naming the release when it does not start with two dot-separated numbers.
Result<KernelRelease> parse_kernel_release(std::string_view release);

// The last release whose sev-guest allocates gcm(aes) through the crypto API at probe time.
inline constexpr KernelRelease LAST_SEV_GUEST_CRYPTO_API{6, 12};

// The module names `platforms` need on the kernel `release` that `index` describes, each once,
// in the order to load them (crypto before sev-guest). Errc::Config naming the module and the
// platform when the kernel has neither it as a module nor built in (the report module is
// optional: kernels before 6.7 have no configfs-tsm).
Result<std::vector<std::string>> platform_modules(std::span<const Platform> platforms, const ModuleIndex& index,
                                                  std::string_view release);

}  // namespace cvm::initramfs
