#include "initramfs/platforms.h"

#include <algorithm>
#include <charconv>

namespace cvm::initramfs {

namespace {

void add_once(std::vector<std::string>& out, std::string name)
{
    if (std::find(out.begin(), out.end(), name) == out.end())
        out.push_back(std::move(name));
}

Result<void> add(std::vector<std::string>& out, const ModuleIndex& index, const char* name, const char* platform,
                 const char* why)
{
    if (!index.contains(name))
        return Error::make(Errc::Config,
                           "--platform %s needs module '%s' (%s), which is neither in modules.dep nor built in",
                           platform, name, why);
    add_once(out, name);
    return {};
}

}  // namespace

Result<Platform> parse_platform(std::string_view name)
{
    if (name == "snp")
        return Platform::Snp;
    if (name == "sim")
        return Platform::Sim;
    return Error::make(Errc::Config, "--platform '%.*s': expected snp or sim", static_cast<int>(name.size()),
                       name.data());
}

Result<KernelRelease> parse_kernel_release(std::string_view release)
{
    KernelRelease out;
    const char* end = release.data() + release.size();
    auto major = std::from_chars(release.data(), end, out.major);
    bool ok = major.ec == std::errc() && major.ptr != release.data() && major.ptr < end && *major.ptr == '.';
    if (ok) {
        auto minor = std::from_chars(major.ptr + 1, end, out.minor);
        ok = minor.ec == std::errc() && minor.ptr != major.ptr + 1;
    }
    if (!ok)
        return Error::make(Errc::Config, "kernel release '%.*s': expected MAJOR.MINOR... (as uname -r prints it)",
                           static_cast<int>(std::min<size_t>(release.size(), 120)), release.data());
    return out;
}

Result<std::vector<std::string>> platform_modules(std::span<const Platform> platforms, const ModuleIndex& index,
                                                  std::string_view release)
{
    std::vector<std::string> out;
    for (Platform platform : platforms) {
        if (platform == Platform::Sim) {
            TRY(add(out, index, "qemu_fw_cfg", "sim", "the simulated report arrives through fw_cfg"));
            TRY(add(out, index, "virtio_net", "sim", "QEMU's network card"));
            continue;
        }
        KernelRelease kernel = TRY(parse_kernel_release(release));
        if (!(LAST_SEV_GUEST_CRYPTO_API < kernel)) {
            // gcm(aes) = gcm_base(ctr(aes), ghash): the templates and ciphers the crypto API
            // would otherwise ask modprobe for (crypto/gcm.c: crypto_gcm_create()).
            for (const char* name : {"aes_generic", "ctr", "gcm", "ghash_generic"}) {
                const char* why = "sev-guest allocates gcm(aes) at probe time on kernels up to 6.12";
                TRY(add(out, index, name, "snp", why));
            }
        }
        TRY(add(out, index, "configfs", "snp", "configfs-tsm reports"));
        for (const char* report : {"tsm", "tsm_report"}) {
            if (index.contains(report)) {
                add_once(out, report);
                break;
            }
        }
        TRY(add(out, index, "sev_guest", "snp", "the SEV-SNP guest driver"));
        // cvminit.initdata=fw_cfg reads the init-data document through fw_cfg on QEMU; optional:
        // a kernel without the module boots as before, and such a boot names it if it needs it.
        if (index.contains("qemu_fw_cfg"))
            add_once(out, "qemu_fw_cfg");
    }
    return out;
}

}  // namespace cvm::initramfs
