#include "kernel-cmdline/values.h"

namespace cvm::cmdline {

namespace {

constexpr size_t PATH_MAX_BYTES = 4096;  // Linux PATH_MAX, including the terminating NUL

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

}  // namespace

std::optional<uint32_t> parse_decimal(std::string_view text, uint32_t max)
{
    if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0'))
        return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        if (!is_digit(c))
            return std::nullopt;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (value > max)
        return std::nullopt;
    return static_cast<uint32_t>(value);
}

std::vector<std::string_view> split(std::string_view text, char separator)
{
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (;;) {
        size_t end = text.find(separator, start);
        if (end == std::string_view::npos) {
            parts.push_back(text.substr(start));
            return parts;
        }
        parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
}

std::optional<Ipv4Address> parse_ipv4(std::string_view text)
{
    std::vector<std::string_view> parts = split(text, '.');
    if (parts.size() != 4)
        return std::nullopt;
    Ipv4Address address{};
    for (size_t i = 0; i < 4; ++i) {
        auto octet = parts[i].size() <= 3 ? parse_decimal(parts[i], 255) : std::nullopt;
        if (!octet)
            return std::nullopt;
        address[i] = static_cast<uint8_t>(*octet);
    }
    return address;
}

std::string format_ipv4(const Ipv4Address& address)
{
    return std::to_string(address[0]) + "." + std::to_string(address[1]) + "." + std::to_string(address[2]) + "." +
           std::to_string(address[3]);
}

bool is_unicast(const Ipv4Address& address)
{
    return address[0] != 0 && address[0] != 127 && address[0] < 224;
}

bool valid_absolute_path(std::string_view path)
{
    if (path.size() < 2 || path.size() >= PATH_MAX_BYTES || path[0] != '/')
        return false;
    for (char c : path) {
        if (c <= 0x20 || c >= 0x7f || c == '"')
            return false;
    }
    for (std::string_view component : split(path.substr(1), '/')) {
        if (component.empty() || component == "." || component == "..")
            return false;
    }
    return true;
}

bool is_below(std::string_view path, std::string_view dir)
{
    return path.size() > dir.size() + 1 && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

std::string shown(std::string_view value)
{
    bool cut = value.size() > SHOWN_MAX;
    std::string out(value.substr(0, cut ? SHOWN_MAX - 3 : value.size()));
    for (char& c : out) {
        if (c < 0x20 || c > 0x7e)
            c = '?';
    }
    if (cut)
        out += "...";
    return out;
}

}  // namespace cvm::cmdline
