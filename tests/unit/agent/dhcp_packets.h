// Hand-built DHCP replies for the agent's DHCP tests: the exact bytes QEMU's user-mode network
// (libslirp src/bootp.c, bootp_reply) sends for our QEMU boots, and a dnsmasq-style ACK.
//
// slirp: op 2, flags 0 (it broadcasts regardless), yiaddr 10.0.2.15, siaddr 10.0.2.2, options
// 53, 54 10.0.2.2, 1 255.255.255.0, 3 10.0.2.2, 6 10.0.2.3, 51 86400, 255, then zeros up to the
// 312-byte options area (a 548-byte message). Its NAK carries yiaddr 255.255.255.255, options 53
// and 56 "requested address not available" and no server identifier.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "dhcp/ipv4.h"

namespace cvm::test {

using agent::Mac;

inline constexpr Mac CLIENT_MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
inline constexpr uint32_t CLIENT_XID = 0x3903F326;

// A reply: the 44-byte head (op .. chaddr, hex), 192 zero bytes of sname and file, the magic
// cookie, then `options_hex`, zero-padded to `total` bytes (no padding when `total` is smaller).
Bytes dhcp_packet(const std::string& head_hex, const std::string& options_hex, size_t total);

// The 44-byte head of a BOOTREPLY for `xid` and `mac` with `yiaddr` and `siaddr`.
std::string reply_head(uint32_t xid, const Mac& mac, const std::string& yiaddr_hex, const std::string& siaddr_hex);

// slirp's replies (548 bytes) for `xid` and `mac`; `type_hex` "02" OFFER, "05" ACK.
Bytes slirp_reply(const std::string& type_hex, uint32_t xid = CLIENT_XID, const Mac& mac = CLIENT_MAC);
Bytes slirp_nak(uint32_t xid = CLIENT_XID, const Mac& mac = CLIENT_MAC);

// A slirp OFFER whose options are `options_hex` (which must bring its own end option, or not).
Bytes offer_with_options(const std::string& options_hex);

// The options of slirp's OFFER, without the end option.
inline const std::string SLIRP_OFFER_OPTIONS = "350102"         // 53 message type: OFFER
                                               "36040a000202"   // 54 server identifier 10.0.2.2
                                               "0104ffffff00"   // 1 subnet mask 255.255.255.0
                                               "03040a000202"   // 3 router 10.0.2.2
                                               "06040a000203"   // 6 DNS 10.0.2.3
                                               "330400015180";  // 51 lease time 86400 s

}  // namespace cvm::test
