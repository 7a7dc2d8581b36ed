#include "qemu_command.h"

namespace cvm::cli {
namespace {

// QEMU's option values use ',' as a separator; a literal comma in a path is written ",,".
std::string escape_commas(const std::string& s)
{
    std::string out;
    for (char c : s)
        out += c == ',' ? ",," : std::string(1, c);
    return out;
}

}  // namespace

Result<std::vector<std::string>> qemu_command(const launch::LaunchConfig& l, const QemuOptions& o)
{
    if (l.mode != "snp")
        return Error::make(Errc::Config, "launch.toml key 'mode': cvm launch runs \"snp\" launches, not \"%s\"",
                           l.mode.c_str());
    if (!l.kernel)
        return Error::make(Errc::Config, "launch.toml key 'kernel.path': cvm launch needs measured direct boot");
    if (!l.vcpus)
        return Error::make(Errc::Config, "launch.toml key 'vcpus': missing");
    std::string memory = std::to_string(l.memory_mib.value_or(2048));
    std::vector<std::string> a = {o.qemu,    "-nodefaults", "-nographic", "-no-reboot",
                                  "-serial", "stdio",       "-smp",       std::to_string(*l.vcpus),
                                  "-m",      memory + "M"};
    if (o.mode == LaunchMode::Hardware) {
        a.insert(a.end(), {"-machine", "q35,confidential-guest-support=sev0,memory-backend=ram1", "-enable-kvm", "-cpu",
                           l.vcpu_type.value_or("EPYC-v4"), "-object",
                           "memory-backend-memfd,id=ram1,size=" + memory + "M,share=true", "-object",
                           "sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on", "-bios", l.ovmf});
    } else {
        a.insert(a.end(), {"-machine", "q35", "-accel", "tcg", "-cpu", "max"});
        a.insert(a.end(), o.fw_cfg_args.begin(), o.fw_cfg_args.end());
    }
    a.insert(a.end(), {"-kernel", *l.kernel});
    if (l.initrd)
        a.insert(a.end(), {"-initrd", *l.initrd});
    a.insert(a.end(), {"-append", l.cmdline_string()});
    if (o.network)
        a.insert(a.end(), {"-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0"});
    for (size_t i = 0; i < o.disks.size(); ++i) {
        std::string id = "disk" + std::to_string(i);
        a.insert(a.end(), {"-drive", "file=" + escape_commas(o.disks[i]) + ",if=none,format=raw,id=" + id, "-device",
                           "virtio-blk-pci,drive=" + id});
    }
    return a;
}

std::string shell_quote(const std::vector<std::string>& argv)
{
    std::string out;
    for (const std::string& arg : argv) {
        bool plain = !arg.empty() && arg.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                           "0123456789_-+=/.,:@%") == std::string::npos;
        if (!out.empty())
            out += ' ';
        if (plain) {
            out += arg;
            continue;
        }
        out += '\'';
        for (char c : arg)
            out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out += '\'';
    }
    return out;
}

}  // namespace cvm::cli
