#include "dhcp/netif.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/file.h"

namespace cvm::agent {

namespace {

constexpr size_t SYSFS_ATTRIBUTE_MAX = 4096;

Result<void> check_name(const std::string& name)
{
    if (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != std::string::npos)
        return Error::make(Errc::Config, "interface name '%s' is not 1..%d characters without '/'", name.c_str(),
                           IFNAMSIZ - 1);
    return {};
}

Error ioctl_error(const char* what, const std::string& name)
{
    int saved = errno;
    return Error::from_errno(Errc::Io, saved, "%s on %s: %s", what, name.c_str(), strerror(saved));
}

// The socket the interface ioctls go through; any AF_INET socket will do.
Result<UniqueFd> control_socket(const std::string& name)
{
    UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return ioctl_error("socket(AF_INET)", name);
    return fd;
}

ifreq request_for(const std::string& name)
{
    ifreq ifr{};
    memcpy(ifr.ifr_name, name.data(), name.size());  // check_name: shorter than IFNAMSIZ, NUL-terminated
    return ifr;
}

sockaddr to_sockaddr(Ipv4 address)
{
    sockaddr_in in{};
    in.sin_family = AF_INET;
    memcpy(&in.sin_addr, address.octets.data(), 4);
    sockaddr out{};
    memcpy(&out, &in, sizeof in);
    return out;
}

Result<void> add_route(int fd, const std::string& name, Ipv4 destination, Ipv4 mask, Ipv4 gateway, int flags)
{
    rtentry rt{};
    rt.rt_dst = to_sockaddr(destination);
    rt.rt_genmask = to_sockaddr(mask);
    rt.rt_gateway = to_sockaddr(gateway);
    rt.rt_flags = static_cast<unsigned short>(flags);
    std::string device = name;
    rt.rt_dev = device.data();
    if (ioctl(fd, SIOCADDRT, &rt) != 0)
        return ioctl_error((flags & RTF_HOST) ? "SIOCADDRT (host route to the gateway)" : "SIOCADDRT (default route)",
                           name);
    return {};
}

}  // namespace

Result<void> link_up(const std::string& name)
{
    TRY(check_name(name));
    UniqueFd fd = TRY(control_socket(name));
    ifreq ifr = request_for(name);
    if (ioctl(fd.get(), SIOCGIFFLAGS, &ifr) != 0)
        return ioctl_error("SIOCGIFFLAGS", name);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (ioctl(fd.get(), SIOCSIFFLAGS, &ifr) != 0)
        return ioctl_error("SIOCSIFFLAGS (up)", name);
    return {};
}

Result<void> set_ipv4(const std::string& name, Ipv4 address, uint8_t prefix)
{
    TRY(check_name(name));
    if (prefix < 1 || prefix > 32)
        return Error::make(Errc::Config, "prefix length %u for %s is not 1..32", prefix, name.c_str());
    if (!is_unicast(address))
        return Error::make(Errc::Config, "%s is not a unicast address for %s", address.to_string().c_str(),
                           name.c_str());
    UniqueFd fd = TRY(control_socket(name));
    ifreq ifr = request_for(name);
    ifr.ifr_addr = to_sockaddr(address);
    if (ioctl(fd.get(), SIOCSIFADDR, &ifr) != 0)
        return ioctl_error("SIOCSIFADDR", name);
    ifr = request_for(name);
    ifr.ifr_netmask = to_sockaddr(Ipv4::from_u32(~uint32_t{0} << (32 - prefix)));
    if (ioctl(fd.get(), SIOCSIFNETMASK, &ifr) != 0)
        return ioctl_error("SIOCSIFNETMASK", name);
    return {};
}

Result<void> add_default_route(const std::string& name, Ipv4 gateway)
{
    TRY(check_name(name));
    if (!is_unicast(gateway))
        return Error::make(Errc::Config, "gateway %s is not a unicast address", gateway.to_string().c_str());
    UniqueFd fd = TRY(control_socket(name));
    const Ipv4 any{};
    auto added = add_route(fd.get(), name, any, any, gateway, RTF_UP | RTF_GATEWAY);
    if (added || added.error().errno_value() != ENETUNREACH)
        return added;
    TRY(add_route(fd.get(), name, gateway, Ipv4::from_u32(0xFFFFFFFF), any, RTF_UP | RTF_HOST));
    return add_route(fd.get(), name, any, any, gateway, RTF_UP | RTF_GATEWAY);
}

Result<Mac> hardware_address(const std::string& name)
{
    TRY(check_name(name));
    UniqueFd fd = TRY(control_socket(name));
    ifreq ifr = request_for(name);
    if (ioctl(fd.get(), SIOCGIFHWADDR, &ifr) != 0)
        return ioctl_error("SIOCGIFHWADDR", name);
    if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
        return Error::make(Errc::Unsupported, "%s is not an Ethernet interface (ARPHRD %u)", name.c_str(),
                           ifr.ifr_hwaddr.sa_family);
    Mac mac;
    memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, mac.size());
    return mac;
}

Result<std::string> first_virtio_nic(const std::string& sysfs_root)
{
    const std::string dir = sysfs_root + "/class/net";
    std::unique_ptr<DIR, int (*)(DIR*)> listing(opendir(dir.c_str()), closedir);
    if (!listing)
        return Error::from_errno(Errc::Unavailable, errno, "cannot list %s: %s", dir.c_str(), strerror(errno));
    std::string best;
    unsigned long best_index = ULONG_MAX;
    while (dirent* e = readdir(listing.get())) {
        std::string name = e->d_name;
        if (name.empty() || name[0] == '.')
            continue;
        char target[PATH_MAX];
        ssize_t n = readlink((dir + "/" + name + "/device/driver").c_str(), target, sizeof target - 1);
        if (n <= 0)
            continue;  // lo, bridges and other virtual devices have no driver
        std::string_view driver(target, static_cast<size_t>(n));
        if (driver.substr(driver.rfind('/') + 1) != "virtio_net")
            continue;
        // sysfs attributes claim a page (st_size 4096) whatever they hold: bound by that.
        std::string index = TRY(read_text_file(dir + "/" + name + "/ifindex", SYSFS_ATTRIBUTE_MAX));
        char* end = nullptr;
        unsigned long value = strtoul(index.c_str(), &end, 10);
        if (end == index.c_str() || (*end != '\n' && *end != '\0'))
            return Error::make(Errc::Format, "%s/%s/ifindex is '%.16s', not a number", dir.c_str(), name.c_str(),
                               index.c_str());
        if (value < best_index) {
            best_index = value;
            best = name;
        }
    }
    if (best.empty())
        return Error::make(Errc::Unavailable, "no virtio_net interface in %s (is the virtio_net module loaded?)",
                           dir.c_str());
    return best;
}

Result<void> write_resolv_conf(const std::string& path, const std::vector<Ipv4>& dns)
{
    std::string text;
    for (size_t i = 0; i < dns.size() && i < 3; ++i)
        text += "nameserver " + dns[i].to_string() + "\n";
    return write_file_atomic(path, as_bytes(text), 0644);
}

}  // namespace cvm::agent
