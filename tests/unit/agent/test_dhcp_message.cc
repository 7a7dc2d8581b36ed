// DHCP messages: the bytes we send, the replies QEMU's slirp and dnsmasq send, and every
// malformed field of a reply refused by name.
#include <doctest.h>

#include "dhcp/dhcp_message.h"
#include "dhcp_packets.h"

using namespace cvm;
using namespace cvm::agent;
using namespace cvm::agent::dhcp;
using test::CLIENT_MAC;
using test::CLIENT_XID;

namespace {

Bytes hex(const std::string& text)
{
    return from_hex(text).value();
}

std::string rejection(const Bytes& packet, uint32_t xid = CLIENT_XID)
{
    auto r = parse_reply(packet, xid, CLIENT_MAC);
    REQUIRE_FALSE(r.ok());
    return std::string(r.error().message());
}

void refused(const Bytes& packet, const std::string& part)
{
    std::string e = rejection(packet);
    CHECK_MESSAGE(e.find(part) != std::string::npos, "'" << part << "' not in: " << e);
}

Ipv4 ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return Ipv4{{a, b, c, d}};
}

// The fixed part of what we send for CLIENT_MAC and CLIENT_XID: BOOTREQUEST, Ethernet, BROADCAST.
const std::string REQUEST_HEAD = "01010600"
                                 "3903f326"
                                 "0000"
                                 "8000"
                                 "00000000000000000000000000000000"
                                 "525400123456"
                                 "00000000000000000000";

}  // namespace

TEST_CASE("DHCPDISCOVER and DHCPREQUEST have the RFC 2131 layout, padded to 300 bytes")
{
    Bytes expected = test::dhcp_packet(REQUEST_HEAD,
                                       "350101"              // 53: DISCOVER
                                       "3d0701525400123456"  // 61: client id, type 1 + MAC
                                       "370401030633"        // 55: 1, 3, 6, 51
                                       "ff",
                                       300);
    CHECK(to_hex(build_discover(CLIENT_MAC, CLIENT_XID)) == to_hex(expected));

    expected = test::dhcp_packet(REQUEST_HEAD,
                                 "350103"
                                 "3d0701525400123456"
                                 "32040a00020f"  // 50: requested address 10.0.2.15
                                 "36040a000202"  // 54: server 10.0.2.2
                                 "370401030633"
                                 "ff",
                                 300);
    CHECK(to_hex(build_request(CLIENT_MAC, CLIENT_XID, ip(10, 0, 2, 15), ip(10, 0, 2, 2))) == to_hex(expected));
}

TEST_CASE("QEMU slirp's OFFER, ACK and NAK")
{
    // The OFFER byte for byte, as libslirp's bootp_reply writes it.
    Bytes offer = test::slirp_reply("02");
    Bytes literal = hex("020106003903f32600000000000000000a00020f0a00020200000000525400123456"
                        "00000000000000000000");
    literal.resize(236, 0);
    Bytes tail = hex("63825363350102"
                     "36040a000202"
                     "0104ffffff00"
                     "03040a000202"
                     "06040a000203"
                     "330400015180"
                     "ff");
    literal.insert(literal.end(), tail.begin(), tail.end());
    literal.resize(548, 0);
    CHECK(to_hex(offer) == to_hex(literal));

    auto r = parse_reply(offer, CLIENT_XID, CLIENT_MAC);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    CHECK(r->type == MessageType::Offer);
    CHECK(r->your_address == ip(10, 0, 2, 15));
    CHECK(r->server_id == ip(10, 0, 2, 2));
    CHECK(r->subnet_mask == ip(255, 255, 255, 0));
    CHECK(r->router == ip(10, 0, 2, 2));
    CHECK(r->dns == std::vector<Ipv4>{ip(10, 0, 2, 3)});
    CHECK(r->lease_seconds == 86400u);

    auto ack = parse_reply(test::slirp_reply("05"), CLIENT_XID, CLIENT_MAC);
    REQUIRE_MESSAGE(ack.ok(), ack.error().message());
    CHECK(ack->type == MessageType::Ack);
    CHECK(ack->your_address == ip(10, 0, 2, 15));

    auto nak = parse_reply(test::slirp_nak(), CLIENT_XID, CLIENT_MAC);
    REQUIRE_MESSAGE(nak.ok(), nak.error().message());
    CHECK(nak->type == MessageType::Nak);
    CHECK(nak->server_id.is_zero());
    CHECK(nak->message == "requested address not available");
}

TEST_CASE("a dnsmasq ACK: options we do not ask for are skipped, DNS servers capped at three")
{
    Bytes ack = test::dhcp_packet(test::reply_head(CLIENT_XID, CLIENT_MAC, "c0a87a4c", "c0a87a01"),
                                  "350105"
                                  "3604c0a87a01"
                                  "330400000e10"  // 51: 3600 s
                                  "3a0400000708"  // 58: renewal (T1)
                                  "3b0400000c4e"  // 59: rebinding (T2)
                                  "0104ffffff00"
                                  "1c04c0a87aff"                          // 28: broadcast address
                                  "0308c0a87a01c0a87a02"                  // 3: two routers
                                  "0610c0a87a0108080808010101010909090a"  // 6: four servers
                                  "0c056775657374"                        // 12: host name
                                  "0000"                                  // pad
                                  "ff",
                                  0);
    auto r = parse_reply(ack, CLIENT_XID, CLIENT_MAC);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    CHECK(r->type == MessageType::Ack);
    CHECK(r->your_address == ip(192, 168, 122, 76));
    CHECK(r->router == ip(192, 168, 122, 1));
    CHECK(r->dns == std::vector<Ipv4>{ip(192, 168, 122, 1), ip(8, 8, 8, 8), ip(1, 1, 1, 1)});
    CHECK(r->lease_seconds == 3600u);
    CHECK(prefix_length(*r->subnet_mask) == 24);
}

TEST_CASE("the fixed header: every field that must match is named")
{
    Bytes offer = test::slirp_reply("02");
    auto with = [&](size_t at, uint8_t value) {
        Bytes b = offer;
        b[at] = value;
        return b;
    };
    refused(Bytes{}, "op");
    refused(Bytes(offer.begin(), offer.begin() + 100), "DHCP reply: sname, file at offset 0x2c is truncated");
    refused(Bytes(offer.begin(), offer.begin() + 238), "magic cookie");
    refused(with(0, 1), "DHCP op is 1, expected 2 (BOOTREPLY)");
    refused(with(1, 6), "DHCP htype/hlen are 6/6, expected 1/6");
    refused(with(2, 16), "DHCP htype/hlen are 1/16");
    CHECK(rejection(offer, 0x3903F327) == "DHCP xid is 0x3903f326, expected 0x3903f327");
    refused(with(33, 0x57), "DHCP chaddr starts 52:54:00:12:34:57, expected 52:54:00:12:34:56");
    refused(with(239, 0x64), "DHCP magic cookie is 99.130.83.100, expected 99.130.83.99");
    Bytes big = offer;
    big.resize(MAX_REPLY_SIZE + 1, 0);
    refused(big, "DHCP reply is 1473 bytes, more than the 1472 allowed");
    big.resize(MAX_REPLY_SIZE);
    CHECK(parse_reply(big, CLIENT_XID, CLIENT_MAC).ok());         // zero padding up to the bound is fine
    CHECK(parse_reply(with(3, 1), CLIENT_XID, CLIENT_MAC).ok());  // hops: a relay was involved
}

TEST_CASE("options: lengths, duplicates, the end option and what follows it")
{
    const std::string& ok = test::SLIRP_OFFER_OPTIONS;
    CHECK(parse_reply(test::offer_with_options(ok + "ff"), CLIENT_XID, CLIENT_MAC).ok());
    refused(test::offer_with_options(ok), "DHCP options have no end option (255)");
    refused(test::offer_with_options(ok + "0c"), "DHCP option 12: DHCP reply: option length at offset");
    refused(test::offer_with_options(ok + "0c05414243"), "DHCP option 12: DHCP reply: option value at offset");
    refused(test::offer_with_options(ok + "ff00000001"), "padding after the end option");
    refused(test::offer_with_options(ok + "350102ff"), "DHCP option 53 appears twice");
    refused(test::offer_with_options("35020202" + ok.substr(6) + "ff"), "DHCP option 53 has length 2, expected 1");
    refused(test::offer_with_options(ok + "3403010203ff"), "DHCP option 52 (overload)");
    auto overload = parse_reply(test::offer_with_options(ok + "340103ff"), CLIENT_XID, CLIENT_MAC);
    REQUIRE_FALSE(overload.ok());
    CHECK(overload.error().code() == Errc::Unsupported);

    auto replace = [&](const std::string& from, const std::string& to) {
        std::string o = ok;
        o.replace(o.find(from), from.size(), to);
        return test::offer_with_options(o + "ff");
    };
    refused(replace("36040a000202", "36030a0002"), "DHCP option 54 has length 3, expected 4");
    refused(replace("330400015180", "33050001518000"), "DHCP option 51 has length 5, expected 4");
    refused(replace("0104ffffff00", "0103ffffff"), "DHCP option 1 has length 3, expected 4");
    refused(replace("03040a000202", "03060a0002020000"),
            "DHCP option 3 has length 6, expected a non-zero multiple of 4");
    refused(replace("06040a000203", "0600"), "DHCP option 6 has length 0");
    refused(replace("350102", ""), "DHCP reply has no message type (option 53)");
    refused(replace("350102", "350103"), "DHCP message type (option 53) is 3, expected 2, 5 or 6");
    refused(replace("36040a000202", ""), "DHCPOFFER has no server identifier (option 54)");
    refused(replace("36040a000202", "360400000000"), "server identifier (option 54) 0.0.0.0 is not");
    refused(replace("330400015180", ""), "DHCPOFFER has no lease time (option 51)");
    refused(replace("0104ffffff00", ""), "DHCPOFFER has no subnet mask (option 1)");
    refused(replace("0104ffffff00", "0104ff00ff00"), "subnet mask (option 1) 255.0.255.0 is not a contiguous netmask");
    refused(replace("0104ffffff00", "010400000000"), "subnet mask (option 1) 0.0.0.0");
    refused(replace("03040a000202", "0304ffffffff"), "DHCP router (option 3) 255.255.255.255 is not a usable");
    refused(replace("06040a000203", "0604e0000001"), "DHCP DNS server (option 6) 224.0.0.1 is not a usable");
    CHECK(parse_reply(replace("03040a000202", ""), CLIENT_XID, CLIENT_MAC)->router == std::nullopt);
    CHECK(parse_reply(replace("06040a000203", ""), CLIENT_XID, CLIENT_MAC)->dns.empty());
}

TEST_CASE("an OFFER or ACK must give a usable yiaddr; a NAK need not")
{
    for (const char* bad : {"00000000", "ffffffff", "7f000001", "e0000001", "00000001"}) {
        Bytes offer = test::dhcp_packet(test::reply_head(CLIENT_XID, CLIENT_MAC, bad, "0a000202"),
                                        test::SLIRP_OFFER_OPTIONS + "ff", 548);
        refused(offer, "DHCP yiaddr");
    }
    Bytes nak = test::dhcp_packet(test::reply_head(CLIENT_XID, CLIENT_MAC, "00000000", "00000000"),
                                  "350106"
                                  "36040a000202"
                                  "3805"
                                  "6e6f0a07ff"
                                  "ff",  // a message with a newline and a non-ASCII byte
                                  0);
    auto r = parse_reply(nak, CLIENT_XID, CLIENT_MAC);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    CHECK(r->server_id == ip(10, 0, 2, 2));
    CHECK(r->message == "no???");
}

TEST_CASE("IPv4 helpers")
{
    CHECK(prefix_length(ip(255, 255, 255, 255)) == 32);
    CHECK(prefix_length(ip(128, 0, 0, 0)) == 1);
    CHECK(prefix_length(ip(255, 255, 254, 0)) == 23);
    CHECK_FALSE(prefix_length(ip(0, 0, 0, 0)));
    CHECK_FALSE(prefix_length(ip(255, 255, 255, 1)));
    CHECK(Ipv4::from_u32(0x0A00020F) == ip(10, 0, 2, 15));
    CHECK(ip(10, 0, 2, 15).to_u32() == 0x0A00020Fu);
    CHECK(ip(192, 168, 0, 1).to_string() == "192.168.0.1");
    CHECK(is_unicast(ip(10, 0, 2, 15)));
    CHECK_FALSE(is_unicast(ip(0, 1, 2, 3)));
    CHECK_FALSE(is_unicast(ip(240, 0, 0, 1)));
    CHECK(mac_to_string(CLIENT_MAC) == "52:54:00:12:34:56");
}
