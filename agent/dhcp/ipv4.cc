#include "dhcp/ipv4.h"

#include <cstdio>

namespace cvm::agent {

Ipv4 Ipv4::from_u32(uint32_t value)
{
    return Ipv4{{static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 8),
                 static_cast<uint8_t>(value)}};
}

uint32_t Ipv4::to_u32() const
{
    return uint32_t{octets[0]} << 24 | uint32_t{octets[1]} << 16 | uint32_t{octets[2]} << 8 | octets[3];
}

std::string Ipv4::to_string() const
{
    char buf[16];
    snprintf(buf, sizeof buf, "%u.%u.%u.%u", octets[0], octets[1], octets[2], octets[3]);
    return buf;
}

bool is_unicast(Ipv4 address)
{
    uint8_t first = address.octets[0];
    return first != 0 && first != 127 && first < 224;
}

std::optional<uint8_t> prefix_length(Ipv4 mask)
{
    uint32_t m = mask.to_u32();
    if (m == 0)
        return std::nullopt;
    uint32_t host_bits = ~m;
    if ((host_bits & (host_bits + 1)) != 0)  // the host part must be 0...01...1
        return std::nullopt;
    uint8_t prefix = 0;
    for (; m != 0; m <<= 1)
        ++prefix;
    return prefix;
}

std::string mac_to_string(const Mac& mac)
{
    char buf[18];
    snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return buf;
}

}  // namespace cvm::agent
