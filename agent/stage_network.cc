// Stage 4, network: loopback up, then the first virtio NIC configured by DHCPv4 or statically
// from the measured command line, DNS from the lease or the command line. Bounded by the boot
// deadline: DHCP gives up when it passes (DESIGN.md §2: never wait forever).
#include "dhcp/dhcp_client.h"
#include "dhcp/netif.h"
#include "stages.h"

namespace cvm::agent {
namespace {

Result<std::string> apply_dhcp(Context& ctx, const std::string& nic)
{
    auto transport = TRY(dhcp::open_udp_transport(nic));
    dhcp::ClientOptions options;
    options.mac = TRY(hardware_address(nic));
    options.deadline = ctx.deadline;
    dhcp::Lease lease = TRY_PREFIX(dhcp::acquire_lease(*transport, options), "DHCP on %s", nic.c_str());
    TRY(set_ipv4(nic, lease.address, lease.prefix));
    if (lease.router)
        TRY(add_default_route(nic, *lease.router));
    std::vector<Ipv4> dns = ctx.dns.empty() ? lease.dns : ctx.dns;
    TRY(write_resolv_conf(ctx.root + "/etc/resolv.conf", dns));
    return nic + " " + lease.address.to_string() + "/" + std::to_string(lease.prefix) + " by DHCP from " +
           lease.server.to_string() + (lease.router ? ", router " + lease.router->to_string() : "") + ", " +
           std::to_string(dns.size()) + " DNS";
}

Result<std::string> apply_static(Context& ctx, const std::string& nic)
{
    TRY(set_ipv4(nic, ctx.static_address, ctx.static_prefix));
    TRY(add_default_route(nic, ctx.static_gateway));
    TRY(write_resolv_conf(ctx.root + "/etc/resolv.conf", ctx.dns));
    return nic + " " + ctx.static_address.to_string() + "/" + std::to_string(ctx.static_prefix) + " (static), router " +
           ctx.static_gateway.to_string();
}

}  // namespace

Result<std::string> stage_network(Context& ctx)
{
    TRY(link_up("lo"));
    if (ctx.net_mode == NetMode::None)
        return std::string("loopback only (cvminit.net=none)");
    std::string nic = TRY(first_virtio_nic(ctx.root + "/sys"));
    TRY(link_up(nic));
    return ctx.net_mode == NetMode::Dhcp ? apply_dhcp(ctx, nic) : apply_static(ctx, nic);
}

}  // namespace cvm::agent
