#include "net/url.h"

#include "base/bytes.h"

#include <arpa/inet.h>
#include <cctype>

namespace cvm::net {

namespace {

Error bad_url(std::string_view text, const char* why)
{
    return Error::make(Errc::Config, "invalid URL \"%.*s\": %s", static_cast<int>(std::min<size_t>(text.size(), 80)),
                       text.data(), why);
}

bool is_name_char(char c)
{
    return isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// Visible ASCII only: RFC 3986 characters and percent-escapes pass through unchanged; we do not
// re-encode, we only refuse what could split or corrupt the request line.
bool is_target_char(char c)
{
    return c > 0x20 && c < 0x7f;
}

Result<uint16_t> parse_port(std::string_view text, std::string_view digits)
{
    if (digits.empty() || digits.size() > 5)
        return bad_url(text, "the port must be a number from 1 to 65535");
    uint32_t port = 0;
    for (char c : digits) {
        if (!isdigit(static_cast<unsigned char>(c)))
            return bad_url(text, "the port must be a number from 1 to 65535");
        port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535)
        return bad_url(text, "the port must be a number from 1 to 65535");
    return static_cast<uint16_t>(port);
}

}  // namespace

Result<Url> parse_url(std::string_view text)
{
    if (text.size() > MAX_URL_LENGTH)
        return bad_url(text, "longer than 8192 bytes");
    Url url;
    size_t sep = text.find("://");
    if (sep == std::string_view::npos)
        return bad_url(text, "expected http:// or https://");
    std::string_view scheme = text.substr(0, sep);
    if (equals_ignore_case(scheme, "http"))
        url.scheme = Scheme::Http;
    else if (equals_ignore_case(scheme, "https"))
        url.scheme = Scheme::Https;
    else
        return bad_url(text, "only http and https URLs are supported");

    std::string_view rest = text.substr(sep + 3);
    rest = rest.substr(0, rest.find('#'));
    size_t auth_end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, auth_end);
    std::string_view target = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
    if (authority.find('@') != std::string_view::npos)
        return bad_url(text, "user information (user:password@) is not supported");

    std::string_view host = authority;
    std::string_view port;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos)
            return bad_url(text, "unterminated IPv6 literal");
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty() && after.front() != ':')
            return bad_url(text, "unexpected characters after the IPv6 literal");
        has_port = !after.empty();
        port = has_port ? after.substr(1) : after;
        in6_addr addr;
        if (inet_pton(AF_INET6, std::string(host).c_str(), &addr) != 1)
            return bad_url(text, "malformed IPv6 literal");
    } else {
        size_t colon = authority.find(':');
        if (colon != std::string_view::npos) {
            host = authority.substr(0, colon);
            port = authority.substr(colon + 1);
            has_port = true;
        }
        for (char c : host) {
            if (!is_name_char(c))
                return bad_url(text, "the host may only contain letters, digits, '-', '.' and '_'");
        }
    }
    if (host.empty())
        return bad_url(text, "the host is empty");
    url.host = std::string(host);
    url.port = has_port ? TRY(parse_port(text, port)) : (url.scheme == Scheme::Https ? 443 : 80);

    for (char c : target) {
        if (!is_target_char(c))
            return bad_url(text, "spaces, control and non-ASCII characters must be percent-encoded");
    }
    url.target = target.empty() ? "/" : (target.front() == '?' ? "/" + std::string(target) : std::string(target));
    return url;
}

std::string Url::authority() const
{
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    bool default_port = port == (scheme == Scheme::Https ? 443 : 80);
    if (!default_port)
        out += ":" + std::to_string(port);
    return out;
}

std::string Url::to_string() const
{
    return std::string(scheme == Scheme::Https ? "https://" : "http://") + authority() + target;
}

}  // namespace cvm::net
