// The DHCPv4 client of the network stage (DESIGN.md §2 stage 4): RFC 2131 §4.4 from INIT to
// BOUND, DISCOVER -> OFFER -> REQUEST -> ACK, over a Transport seam and bounded by the boot's
// deadline. It only obtains the lease; netif.h applies it.
//
// Retransmission (RFC 2131 §4.1 asks for 4 s doubling to 64 s, "randomized"; a boot agent with a
// deadline uses a shorter schedule): each message is sent again after 1, 2, 4, 4, 4 ... s until
// an answer or the deadline. REQUEST is sent at most REQUEST_ATTEMPTS times before the client
// returns to INIT, as §4.4.1 says when neither ACK nor NAK comes. A DHCPNAK restarts INIT with a
// fresh xid (§3.1 step 5). Replies that do not parse (dhcp_message.h), are for another xid or
// client, come from another server than the one chosen, or are of the wrong type for the state
// are ignored — the network is untrusted and shared — and the last such reason is reported if
// the deadline passes. No ARP probe of the offered address (§4.4.1 SHOULD): the VMMs we boot on
// hand out one address per NIC.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "dhcp/ipv4.h"

namespace cvm::agent::dhcp {

using TimePoint = std::chrono::steady_clock::time_point;

// The network, as a seam: the real one is a UDP socket on one interface (open_udp_transport),
// tests use a scripted server.
class Transport {
public:
    virtual ~Transport() = default;
    // Broadcasts one message from port 68 to 255.255.255.255:67.
    virtual Result<void> send(ByteView message) = 0;
    // The next datagram from a server's port 67 within `timeout`, or nullopt when none came.
    virtual Result<std::optional<Bytes>> receive(std::chrono::milliseconds timeout) = 0;
};

// A UDP socket bound to 0.0.0.0:68 on `ifname` (SO_BINDTODEVICE, SO_BROADCAST), which must be up
// (link_up in netif.h). Linux sends limited broadcasts from a bound device that has no address yet
// (source 0.0.0.0) and delivers limited broadcasts to it; the BROADCAST flag of our messages asks
// servers to broadcast their replies (RFC 2131 §4.1), as QEMU's slirp always does. Needs
// CAP_NET_RAW for SO_BINDTODEVICE. Errc::Io naming the step.
Result<std::unique_ptr<Transport>> open_udp_transport(const std::string& ifname);

struct Lease {
    Ipv4 address;
    uint8_t prefix{0};
    std::optional<Ipv4> router;
    std::vector<Ipv4> dns;  // at most MAX_DNS_SERVERS
    Ipv4 server;
    uint32_t lease_seconds{0};
};

struct ClientOptions {
    Mac mac{};
    TimePoint deadline;
    // The clock the deadline is measured on; tests substitute one that the fake transport moves.
    std::function<TimePoint()> now = [] { return std::chrono::steady_clock::now(); };
    // Transaction ids; random (getrandom) unless a test fixes them.
    std::function<uint32_t()> new_xid;
};

inline constexpr int REQUEST_ATTEMPTS = 4;
inline constexpr std::chrono::seconds MAX_RETRANSMIT_INTERVAL{4};

// Errc::Network when the deadline passes first, saying how many DISCOVERs and REQUESTs went
// out, how many NAKs came back and why the last ignored reply was ignored; the transport's own
// errors as they are.
Result<Lease> acquire_lease(Transport& transport, const ClientOptions& options);

}  // namespace cvm::agent::dhcp
