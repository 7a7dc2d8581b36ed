#include "qemu_command.h"

#include <arpa/inet.h>

#include <filesystem>

#include "base/base64.h"
#include "base/bytes.h"
#include "initdata/initdata.h"

namespace cvm::cli {
namespace {

// sev-snp-guest (target/i386/sev.c): cbitpos 51 and one reduced physical address bit on Milan,
// Genoa and Turin; kernel-hashes=on puts the SEV hashes table in the measured page; the rest
// from launch.toml.
std::string snp_guest_object(const LaunchPlan& plan)
{
    const launch::LaunchConfig& c = plan.config;
    std::string o =
        "sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on,policy=" + policy_text(c.guest_policy());
    if (c.host_data)
        o += ",host-data=" + base64_encode(*c.host_data);
    if (plan.id_block)
        o += "," + id_block_properties(*plan.id_block);
    return o;
}

bool decimal_port(const std::string& text, unsigned min)
{
    if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos ||
        (text.size() > 1 && text[0] == '0'))
        return false;
    unsigned long port = std::stoul(text);
    return port >= min && port <= 65535;
}

bool ipv4_or_empty(const std::string& text)
{
    in_addr addr{};
    return text.empty() || inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

// QEMU's option values use ',' as a separator; a literal comma in a path is written ",,".
std::string escape_commas(const std::string& s)
{
    std::string out;
    for (char c : s)
        out += c == ',' ? ",," : std::string(1, c);
    return out;
}

// The init-data document for the agent (/sys/firmware/qemu_fw_cfg/by_name/opt/cvminit/initdata/raw),
// on hardware and simulated alike. QEMU reads the file once at startup (system/vl.c:
// parse_fw_cfg(), name= under "opt/" and at most FW_CFG_MAX_FILE_PATH - 1 characters, file=
// read whole). The path is made absolute so the command line means the same file from any
// directory (a printed one is run elsewhere). If the file changes between here and QEMU, the
// guest's digest no longer matches HOST_DATA and the agent refuses it.
Result<std::string> initdata_fw_cfg(const std::string& path)
{
    std::error_code ec;
    std::string absolute = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (ec)
        return Error::make(Errc::Io, "launch.toml key 'initdata': cannot make %s absolute: %s", path.c_str(),
                           ec.message().c_str());
    return "name=" + std::string(initdata::FW_CFG_NAME) + ",file=" + escape_commas(absolute);
}

}  // namespace

Result<void> check_hostfwd(const std::string& rule)
{
    auto bad = [&rule]() {
        return Error::make(Errc::Config,
                           "--hostfwd '%s': expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT with IPv4 "
                           "addresses and decimal ports, e.g. tcp:127.0.0.1:8080-:80",
                           rule.c_str());
    };
    size_t c1 = rule.find(':');
    size_t c2 = c1 == std::string::npos ? c1 : rule.find(':', c1 + 1);
    size_t dash = c2 == std::string::npos ? c2 : rule.find('-', c2 + 1);
    size_t c3 = dash == std::string::npos ? dash : rule.find(':', dash + 1);
    if (c3 == std::string::npos || rule.find(':', c3 + 1) != std::string::npos)
        return bad();
    std::string proto = rule.substr(0, c1);
    if (proto != "" && proto != "tcp" && proto != "udp")
        return bad();
    if (!ipv4_or_empty(rule.substr(c1 + 1, c2 - c1 - 1)) || !decimal_port(rule.substr(c2 + 1, dash - c2 - 1), 0) ||
        !ipv4_or_empty(rule.substr(dash + 1, c3 - dash - 1)) || !decimal_port(rule.substr(c3 + 1), 1))
        return bad();
    return {};
}

Result<std::vector<std::string>> qemu_command(const launch::LaunchConfig& l, const QemuOptions& o)
{
    return qemu_command(TRY(plan_launch(l)), o);
}

Result<std::vector<std::string>> qemu_command(const LaunchPlan& plan, const QemuOptions& o)
{
    const launch::LaunchConfig& l = plan.config;
    if (!o.network && !o.hostfwd.empty())
        return Error::make(Errc::Config, "--hostfwd needs the network (not --no-network)");
    std::string netdev = "user,id=net0";
    for (const std::string& rule : o.hostfwd) {
        TRY(check_hostfwd(rule));
        netdev += ",hostfwd=" + rule;
    }
    std::string memory = std::to_string(l.memory_mib.value_or(2048));
    std::vector<std::string> a = {o.qemu,    "-nodefaults", "-nographic", "-no-reboot",
                                  "-serial", "stdio",       "-smp",       std::to_string(*l.vcpus),
                                  "-m",      memory + "M"};
    if (o.mode == LaunchMode::Hardware) {
        a.insert(a.end(), {"-machine", "q35,confidential-guest-support=sev0,memory-backend=ram1", "-enable-kvm", "-cpu",
                           plan.cpu_model, "-object", "memory-backend-memfd,id=ram1,size=" + memory + "M,share=true",
                           "-object", snp_guest_object(plan), "-bios", l.ovmf});
    } else {
        a.insert(a.end(), {"-machine", "q35", "-accel", "tcg", "-cpu", "max"});
        a.insert(a.end(), o.fw_cfg_args.begin(), o.fw_cfg_args.end());
    }
    if (l.initdata)
        a.insert(a.end(), {"-fw_cfg", TRY(initdata_fw_cfg(*l.initdata))});
    a.insert(a.end(), {"-kernel", *l.kernel});
    if (l.initrd)
        a.insert(a.end(), {"-initrd", *l.initrd});
    a.insert(a.end(), {"-append", l.cmdline_string()});
    if (o.network)
        a.insert(a.end(), {"-netdev", netdev, "-device", "virtio-net-pci,netdev=net0"});
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
