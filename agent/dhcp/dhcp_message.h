// DHCPv4 messages (RFC 2131 §2 "Protocol Summary", Figure 1; options from RFC 2132): the two
// the client sends, built, and the three it accepts, parsed strictly through base::Reader.
//
//   0x000 op  htype  hlen  hops | xid (4) | secs (2) flags (2) | ciaddr | yiaddr | siaddr | giaddr
//   0x01C chaddr (16) | sname (64) | file (128) | 0x0EC magic cookie 99.130.83.99 | options ...
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "dhcp/ipv4.h"

namespace cvm::agent::dhcp {

inline constexpr size_t FIXED_SIZE = 236;                                  // op .. file
inline constexpr std::array<uint8_t, 4> MAGIC_COOKIE = {99, 130, 83, 99};  // RFC 2131 §3
// RFC 2131 §2: without option 57 a client need only take 576-byte IP datagrams; replies larger
// than one Ethernet frame's UDP payload are refused before they are parsed.
inline constexpr size_t MAX_REPLY_SIZE = 1500 - 20 - 8;
// RFC 1542 §2.1: some relays and servers drop BOOTP messages shorter than 300 bytes.
inline constexpr size_t MIN_REQUEST_SIZE = 300;
inline constexpr size_t MAX_DNS_SERVERS = 3;  // what resolv.conf uses (MAXNS)

// Option 53 (RFC 2132 §9.6).
enum class MessageType : uint8_t { Discover = 1, Offer, Request, Decline, Ack, Nak, Release, Inform };
const char* message_type_name(MessageType type);  // "DHCPOFFER"

// What a server said. For OFFER and ACK every field but `router`, `dns` and `message` is present
// (parse_reply enforces it); a NAK carries only the type, perhaps the server and a message.
struct Reply {
    MessageType type{MessageType::Nak};
    Ipv4 your_address;                      // yiaddr
    Ipv4 server_id;                         // option 54; zero only in a NAK without it
    std::optional<Ipv4> subnet_mask;        // option 1, contiguous
    std::optional<Ipv4> router;             // the first address of option 3
    std::vector<Ipv4> dns;                  // option 6, the first MAX_DNS_SERVERS
    std::optional<uint32_t> lease_seconds;  // option 51; 0xFFFFFFFF is "infinite"
    std::string message;                    // option 56, printable ASCII only, at most 64 characters
};

// DHCPDISCOVER (RFC 2131 §4.4.1): BROADCAST flag set (§4.1: the client cannot receive unicast
// before it has an address), chaddr `mac`, options 53, 61 (client identifier: type 1 + MAC), 55
// (parameter request list: 1 subnet mask, 3 router, 6 DNS, 51 lease time), end; zero-padded to
// MIN_REQUEST_SIZE.
Bytes build_discover(const Mac& mac, uint32_t xid);

// DHCPREQUEST in SELECTING state (RFC 2131 §4.3.2): as DISCOVER, ciaddr zero, with option 50
// (requested address: the offer's yiaddr) and option 54 (the offering server), same xid.
Bytes build_request(const Mac& mac, uint32_t xid, Ipv4 requested, Ipv4 server_id);

// Parses a server's DHCPOFFER, DHCPACK or DHCPNAK addressed to this client. Errc::Format naming
// the field and the value found for: more than MAX_REPLY_SIZE bytes; op not 2 (BOOTREPLY); htype
// not 1 or hlen not 6; xid not `xid`; chaddr not `mac`; a wrong magic cookie; an option whose
// length runs past the end or does not fit its type (53/52: 1 byte; 1, 51, 54: 4 bytes; 3, 6: a
// non-empty multiple of 4); an option given twice; no end option; non-zero bytes after it;
// option 53 missing or not OFFER/ACK/NAK; option 54 not unicast, or missing from an OFFER or ACK
// (a NAK without it gets a zero server_id: QEMU's slirp sends those). For OFFER and ACK also:
// yiaddr not unicast, option 51 missing, option 1 missing, zero or not contiguous, a router or
// DNS server that is not unicast. Errc::Unsupported for option 52 (overload): sname and file are
// never read.
Result<Reply> parse_reply(ByteView packet, uint32_t xid, const Mac& mac);

}  // namespace cvm::agent::dhcp
