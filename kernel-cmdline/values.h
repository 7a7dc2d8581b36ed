// The value grammars that the cmdline keys and /etc/cvminit.toml share: IPv4 addresses, decimal
// numbers, comma lists, absolute paths, and how a value is shown in an error message.
// Every parser here is strict: one spelling per value, so that the measured text has one meaning.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cvm::cmdline {

// Octets in network order, as they travel in packets (agent::Ipv4 holds the same array).
using Ipv4Address = std::array<uint8_t, 4>;

// Dotted quad: exactly four decimal octets 0..255 without leading zeros. inet_aton() would read
// "010" as octal 8 and "10.1" as 10.0.0.1; both are refused, so an address means one thing.
std::optional<Ipv4Address> parse_ipv4(std::string_view text);
std::string format_ipv4(const Ipv4Address& address);

// An address a host may use as its own, its router or a name server: not 0.0.0.0/8, 127.0.0.0/8,
// 224.0.0.0/4 (multicast) or 240.0.0.0/4 (reserved, including 255.255.255.255).
bool is_unicast(const Ipv4Address& address);

// A decimal number without sign or leading zeros, at most `max`.
std::optional<uint32_t> parse_decimal(std::string_view text, uint32_t max);

// `text` split at every `separator`; empty elements are kept so that callers can refuse them.
std::vector<std::string_view> split(std::string_view text, char separator);

// A normalized absolute path: starts with '/', no empty, "." or ".." components, no trailing
// '/', visible ASCII only without '"' (so it never needs quoting on the command line), shorter
// than PATH_MAX (4096). "/" itself is refused: no caller wants the root directory.
bool valid_absolute_path(std::string_view path);

// True when the normalized path `path` lies strictly below the directory `dir`.
bool is_below(std::string_view path, std::string_view dir);

// `value` as an error message may show it: at most SHOWN_MAX bytes (longer values end in "..."),
// every byte outside printable ASCII replaced by '?', so nothing can garble a console.
inline constexpr size_t SHOWN_MAX = 64;
std::string shown(std::string_view value);

}  // namespace cvm::cmdline
