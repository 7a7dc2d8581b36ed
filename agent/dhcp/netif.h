// Interface configuration for the network stage: find the NIC, bring it up, give it the lease's
// address and default route, write resolv.conf. The classic socket ioctls (netdevice(7):
// SIOCSIFFLAGS, SIOCSIFADDR, SIOCSIFNETMASK; SIOCADDRT from route(8)'s rtentry) on an AF_INET
// datagram socket: one address and one route are all the agent configures, which needs no
// netlink. Each needs CAP_NET_ADMIN; each error names the interface, the step and errno.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "dhcp/ipv4.h"

namespace cvm::agent {

// Sets IFF_UP on `name` (SIOCGIFFLAGS, SIOCSIFFLAGS). Errc::Config for a name that is empty or
// IFNAMSIZ long; Errc::Io otherwise (ENODEV: no such interface).
Result<void> link_up(const std::string& name);

// Sets the primary IPv4 address and the netmask of `prefix` (1..32) bits; the kernel adds the
// prefix route. Errc::Config for a bad prefix or a non-unicast address.
Result<void> set_ipv4(const std::string& name, Ipv4 address, uint8_t prefix);

// The default route via `gateway` out of `name` (SIOCADDRT, RTF_UP | RTF_GATEWAY). A gateway
// outside the interface's subnet (clouds hand out /32 leases) first gets an on-link host route
// (RTF_HOST), as dhclient does. EEXIST when a default route is already there.
Result<void> add_default_route(const std::string& name, Ipv4 gateway);

// The interface's Ethernet address (SIOCGIFHWADDR); Errc::Unsupported if it is not Ethernet.
Result<Mac> hardware_address(const std::string& name);

// The virtio NIC with the lowest ifindex: an entry of <sysfs_root>/class/net whose
// device/driver link ends in "virtio_net". Errc::Unavailable naming the directory when there
// is none (is the virtio_net module loaded?).
Result<std::string> first_virtio_nic(const std::string& sysfs_root = "/sys");

// Writes "nameserver a.b.c.d\n" per server (at most 3, resolv.conf's MAXNS) to `path` atomically,
// mode 0644. An empty list writes an empty file, so no stale server survives.
Result<void> write_resolv_conf(const std::string& path, const std::vector<Ipv4>& dns);

}  // namespace cvm::agent
