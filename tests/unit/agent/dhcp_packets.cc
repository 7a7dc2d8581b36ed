#include "dhcp_packets.h"

#include <doctest.h>

#include <cstdio>

namespace cvm::test {

namespace {

Bytes hex(const std::string& text)
{
    auto bytes = from_hex(text);
    REQUIRE_MESSAGE(bytes.has_value(), text);
    return *bytes;
}

}  // namespace

Bytes dhcp_packet(const std::string& head_hex, const std::string& options_hex, size_t total)
{
    Bytes out = hex(head_hex);
    REQUIRE(out.size() == 44);
    out.resize(236, 0);                        // sname, file
    out.insert(out.end(), {99, 130, 83, 99});  // magic cookie
    Bytes options = hex(options_hex);
    out.insert(out.end(), options.begin(), options.end());
    if (out.size() < total)
        out.resize(total, 0);
    return out;
}

std::string reply_head(uint32_t xid, const Mac& mac, const std::string& yiaddr_hex, const std::string& siaddr_hex)
{
    char fixed[64];
    snprintf(fixed, sizeof fixed, "02010600%08x00000000", xid);  // op htype hlen hops, xid, secs, flags
    return std::string(fixed) + "00000000" + yiaddr_hex + siaddr_hex + "00000000" + to_hex(mac) + std::string(20, '0');
}

Bytes slirp_reply(const std::string& type_hex, uint32_t xid, const Mac& mac)
{
    std::string options = SLIRP_OFFER_OPTIONS;
    options.replace(4, 2, type_hex);
    return dhcp_packet(reply_head(xid, mac, "0a00020f", "0a000202"), options + "ff", 548);
}

Bytes slirp_nak(uint32_t xid, const Mac& mac)
{
    return dhcp_packet(reply_head(xid, mac, "ffffffff", "0a000202"),
                       "350106"
                       "381f" +
                           to_hex(as_bytes("requested address not available")) + "ff",
                       548);
}

Bytes offer_with_options(const std::string& options_hex)
{
    return dhcp_packet(reply_head(CLIENT_XID, CLIENT_MAC, "0a00020f", "0a000202"), options_hex, 0);
}

}  // namespace cvm::test
