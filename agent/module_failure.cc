#include "module_failure.h"

#include <algorithm>
#include <cerrno>

namespace cvm::agent {

std::string module_name_of(std::string_view path)
{
    size_t slash = path.rfind('/');
    std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
    base = base.substr(0, base.find(".ko"));
    std::string out(base);
    std::replace(out.begin(), out.end(), '-', '_');
    return out;
}

ModuleVerdict judge_module_failure(std::string_view path, LoadStep step, int err, const ModuleFacts& facts)
{
    std::string name = module_name_of(path);
    if (step == LoadStep::Open) {
        bool ours = std::find(facts.releases.begin(), facts.releases.end(), facts.release) != facts.releases.end();
        if (err == ENOENT && !ours && !facts.releases.empty())
            return {true, "the initramfs carries modules for kernel " + facts.releases.front() + " but this is " +
                              facts.release + ": rebuild it with cvm initramfs --kernel-modules of " + facts.release};
        if (err == ENOENT)
            return {true, "/etc/cvminit/modules lists a file the initramfs does not carry: rebuild it with cvm "
                          "initramfs, which writes both"};
        return {true, "the initramfs's module file cannot be read"};
    }
    if (name == "sev_guest" && err == ENODEV) {
        if (facts.sev_guest_device)
            return {true, "sev-guest's probe failed on this SEV-SNP guest (the kernel log says why); kernels up to "
                          "6.12 need gcm(aes) for it: rebuild with cvm initramfs --platform snp"};
        if (facts.simulate)
            return {false, "sev-guest found no SEV-SNP device (simulation)"};
        return {true, "this is not an SEV-SNP guest: the kernel registered no sev-guest device (QEMU TCG, or no "
                      "sev-snp-guest object on the QEMU command line); launch it on SEV-SNP, or set "
                      "cvminit.simulate=1 in development"};
    }
    switch (err) {
    case ENODEV: return {true, "module " + name + " found no device it drives: does the VM have one?"};
    case ENOEXEC:
        return {true, "module " + name + " is not for this kernel (" + facts.release +
                          "): rebuild with cvm initramfs --kernel-modules of the booted kernel"};
    case ENOENT:  // finit_module: an unknown symbol (kernel/module/main.c: simplify_symbols())
        return {true, "module " + name +
                          " needs a symbol no loaded module exports (the kernel log names it): a "
                          "module of another build of " +
                          facts.release + "?"};
    case EKEYREJECTED:
    case ENOKEY:
    case EBADMSG:
        return {true, "the kernel enforces module signatures (module.sig_enforce or lockdown) and rejects " + name +
                          "'s: use the modules of the same kernel package"};
    case EPERM: return {true, "the kernel refuses module loading (modules_disabled or lockdown)"};
    default: return {true, "rebuild the initramfs for this kernel (cvm initramfs --kernel-modules)"};
    }
}

}  // namespace cvm::agent
