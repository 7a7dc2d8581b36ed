// The real Transport of dhcp_client.h: one UDP socket on port 68, bound to the interface.
//
// Why UDP and not AF_PACKET (busybox udhcpc, systemd-networkd): raw sockets exist because some
// servers unicast their OFFER to the yiaddr the client does not have yet, which the IP stack
// drops. Our messages set the BROADCAST flag (RFC 2131 §4.1), which servers honour, and QEMU's
// slirp broadcasts every reply regardless. What remains is what Linux does for a socket bound to
// a device without an address:
//   out  ip_route_output_key_hash() lets a limited broadcast leave the bound device, and
//        inet_select_addr() picks the source from other devices' non-host-scope addresses: in
//        the guest there are none (lo's 127.0.0.1 is host scope), so it leaves from 0.0.0.0;
//   in   ip_route_input_slow() takes a limited broadcast in as local (brd_input) whether or not
//        the device has an address, and UDP delivers it to the socket bound to that device.
// Reverse-path filtering would drop the replies (no route back to the server yet); the kernel's
// default, rp_filter=0, is what an initramfs without sysctl runs with. tests/unit/agent/
// test_netif.cc runs this transport over a veth pair into a second network namespace.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/file.h"
#include "dhcp/dhcp_client.h"
#include "dhcp/dhcp_message.h"

namespace cvm::agent::dhcp {

namespace {

constexpr uint16_t SERVER_PORT = 67, CLIENT_PORT = 68;  // RFC 2131 §4.1

Error socket_error(const char* what, const std::string& ifname)
{
    int saved = errno;
    return Error::from_errno(Errc::Io, saved, "DHCP socket on %s: %s: %s", ifname.c_str(), what, strerror(saved));
}

class UdpTransport final : public Transport {
public:
    UdpTransport(UniqueFd fd, std::string ifname) : m_fd(std::move(fd)), m_ifname(std::move(ifname)) {}

    Result<void> send(ByteView message) override
    {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(SERVER_PORT);
        to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
        ssize_t n = sendto(m_fd.get(), message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        if (n != static_cast<ssize_t>(message.size()))
            return socket_error("sendto 255.255.255.255:67", m_ifname);
        return {};
    }

    Result<std::optional<Bytes>> receive(std::chrono::milliseconds timeout) override
    {
        pollfd p{m_fd.get(), POLLIN, 0};
        int ready = poll(&p, 1, static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, INT_MAX)));
        if (ready < 0 && errno == EINTR)
            return std::optional<Bytes>{};
        if (ready < 0)
            return socket_error("poll", m_ifname);
        if (ready == 0)
            return std::optional<Bytes>{};
        Bytes packet(MAX_REPLY_SIZE + 1);
        sockaddr_in from{};
        socklen_t from_size = sizeof from;
        // MSG_TRUNC: the datagram's real length, so an oversized one is refused, not cut.
        ssize_t n = recvfrom(m_fd.get(), packet.data(), packet.size(), MSG_TRUNC | MSG_DONTWAIT,
                             reinterpret_cast<sockaddr*>(&from), &from_size);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return std::optional<Bytes>{};
        if (n < 0)
            return socket_error("recvfrom", m_ifname);
        if (from.sin_port != htons(SERVER_PORT))
            return std::optional<Bytes>{};  // not a server: another client's broadcast
        // An oversized datagram keeps MAX_REPLY_SIZE + 1 bytes, which parse_reply refuses by size.
        packet.resize(std::min(static_cast<size_t>(n), packet.size()));
        return std::optional<Bytes>(std::move(packet));
    }

private:
    UniqueFd m_fd;
    std::string m_ifname;
};

}  // namespace

Result<std::unique_ptr<Transport>> open_udp_transport(const std::string& ifname)
{
    if (ifname.empty() || ifname.size() >= IFNAMSIZ)
        return Error::make(Errc::Config, "interface name '%s' is not 1..%d characters", ifname.c_str(), IFNAMSIZ - 1);
    UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return socket_error("socket", ifname);
    int on = 1;
    if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
        return socket_error("SO_REUSEADDR", ifname);
    if (setsockopt(fd.get(), SOL_SOCKET, SO_BROADCAST, &on, sizeof on) != 0)
        return socket_error("SO_BROADCAST", ifname);
    if (setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), static_cast<socklen_t>(ifname.size())) != 0)
        return socket_error("SO_BINDTODEVICE", ifname);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(CLIENT_PORT);
    local.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
        return socket_error("bind 0.0.0.0:68", ifname);
    return std::unique_ptr<Transport>(std::make_unique<UdpTransport>(std::move(fd), ifname));
}

}  // namespace cvm::agent::dhcp
