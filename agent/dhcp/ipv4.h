// IPv4 addresses and Ethernet MAC addresses as the DHCP client and netif.h use them: octets in
// network order, as they travel in RFC 2131 messages.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace cvm::agent {

using Mac = std::array<uint8_t, 6>;

struct Ipv4 {
    std::array<uint8_t, 4> octets{};

    static Ipv4 from_u32(uint32_t value);  // value in host order: 0x0A00020F is 10.0.2.15
    uint32_t to_u32() const;
    bool is_zero() const { return to_u32() == 0; }
    std::string to_string() const;  // dotted quad
    bool operator==(const Ipv4&) const = default;
};

// An address a host may be given as its own or its router's: not 0.0.0.0/8, 127.0.0.0/8,
// 224.0.0.0/4 (multicast) or 240.0.0.0/4 (reserved, including 255.255.255.255).
bool is_unicast(Ipv4 address);

// The prefix length of a netmask with contiguous one bits (255.255.255.0 -> 24); nullopt for
// 0.0.0.0 and for masks with holes.
std::optional<uint8_t> prefix_length(Ipv4 mask);

std::string mac_to_string(const Mac& mac);  // "52:54:00:12:34:56"

}  // namespace cvm::agent
