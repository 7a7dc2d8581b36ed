// URLs for the HTTP client: "http" or "https" absolute URLs (RFC 3986 §3) and nothing else.
//
// Accepted: scheme (any case) "://" host [":" port] [path] ["?" query] ["#" fragment]. The host
// is a DNS name (letters, digits, '-', '.', '_'), a dotted IPv4 address or a bracketed IPv6
// literal. The fragment is dropped (it is never sent). Refused with Errc::Config and a message
// saying why: other schemes, user info ("user:pass@"), empty or malformed hosts, ports outside
// 1..65535, spaces, control or non-ASCII bytes, URLs over MAX_URL_LENGTH.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cvm::net {

inline constexpr size_t MAX_URL_LENGTH = 8192;

enum class Scheme : uint8_t { Http, Https };

struct Url {
    Scheme scheme{Scheme::Http};
    std::string host;    // IPv6 literals without brackets
    uint16_t port{0};    // explicit, or 80 / 443 by scheme
    std::string target;  // path and query as sent in the request line; "/" when the URL has none

    // The Host header value: host, ":port" unless default for the scheme, brackets for IPv6.
    std::string authority() const;
    // The URL without fragment, e.g. "https://kdsintf.amd.com/vcek/v1/Milan/cert_chain".
    std::string to_string() const;
};

Result<Url> parse_url(std::string_view text);

}  // namespace cvm::net
