#include "proto/pem.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/base64.h"

namespace cvm::proto {
namespace {

// RFC 7468 §2: "Generators MUST wrap the base64-encoded lines so that each line consists of
// exactly 64 characters except for the final line"; §3 makes that the strict parser's rule too.
constexpr size_t LINE = 64;

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

// Consumes "-----<kind> <label>-----" at the front of `s`.
bool take_boundary(std::string_view& s, std::string_view kind, std::string_view label)
{
    for (std::string_view piece :
         {std::string_view("-----"), kind, std::string_view(" "), label, std::string_view("-----")}) {
        if (!s.starts_with(piece))
            return false;
        s.remove_prefix(piece.size());
    }
    return true;
}

// Consumes one line end, LF or CRLF.
bool take_newline(std::string_view& s)
{
    if (s.starts_with("\r\n"))
        s.remove_prefix(2);
    else if (s.starts_with('\n'))
        s.remove_prefix(1);
    else
        return false;
    return true;
}

}  // namespace

Result<SecretBytes> pem_decode(std::string_view text, std::string_view label)
{
    const int label_len = static_cast<int>(label.size());
    std::string_view s = trim(text);
    if (!take_boundary(s, "BEGIN", label) || !take_newline(s))
        return Error::make(Errc::Format, "PEM: the text does not start with a \"-----BEGIN %.*s-----\" line", label_len,
                           label.data());

    // Error messages give line numbers, never characters: the body may be a private key.
    std::vector<std::string_view> lines;  // views into `text`: no copy of the body yet
    size_t total = 0;
    while (!s.starts_with("-----")) {
        size_t end = s.find('\n');
        if (end == std::string_view::npos)
            return Error::make(Errc::Format, "PEM %.*s: no END line", label_len, label.data());
        std::string_view line = s.substr(0, end);
        s.remove_prefix(end + 1);
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        size_t number = lines.size() + 2;  // the BEGIN line is line 1
        if (line.empty() || line.size() > LINE)
            return Error::make(Errc::Format, "PEM %.*s: line %zu has %zu characters, expected 1 to %zu", label_len,
                               label.data(), number, line.size(), LINE);
        if (!lines.empty() && lines.back().size() != LINE)
            return Error::make(Errc::Format, "PEM %.*s: line %zu is shorter than %zu characters but not the last",
                               label_len, label.data(), number - 1, LINE);
        for (char c : line) {
            if (!is_base64_char(c))
                return Error::make(Errc::Format, "PEM %.*s: line %zu holds a character outside base64", label_len,
                                   label.data(), number);
        }
        lines.push_back(line);
        total += line.size();
    }
    if (lines.empty())
        return Error::make(Errc::Format, "PEM %.*s: the block is empty", label_len, label.data());
    if (!take_boundary(s, "END", label) || !s.empty())
        return Error::make(Errc::Format, "PEM %.*s: the text does not end with a \"-----END %.*s-----\" line",
                           label_len, label.data(), label_len, label.data());

    SecretBytes base64(total);
    size_t at = 0;
    for (std::string_view line : lines) {
        memcpy(base64.expose().data() + at, line.data(), line.size());
        at += line.size();
    }
    auto decoded = base64_decode_secret({reinterpret_cast<const char*>(base64.expose().data()), base64.size()});
    if (!decoded)
        return Error::make(Errc::Format, "PEM %.*s: the body is not canonical base64 (RFC 4648 §4, padded)", label_len,
                           label.data());
    return std::move(*decoded);
}

SecretBytes pem_encode(ByteView der, std::string_view label)
{
    constexpr int VARIANT = sodium_base64_VARIANT_ORIGINAL;
    SecretBytes base64(sodium_base64_encoded_len(der.size(), VARIANT));  // with the NUL terminator
    sodium_bin2base64(reinterpret_cast<char*>(base64.expose().data()), base64.size(), der.data(), der.size(), VARIANT);
    const size_t base64_len = base64.size() - 1;
    const size_t line_count = (base64_len + LINE - 1) / LINE;
    const size_t boundary = 5 + 6 + label.size() + 5 + 1;                // "-----BEGIN " label "-----\n"
    SecretBytes out(boundary + base64_len + line_count + boundary - 2);  // "END " is 2 shorter

    size_t at = 0;
    auto put = [&](std::string_view piece) {
        memcpy(out.expose().data() + at, piece.data(), piece.size());
        at += piece.size();
    };
    auto text = [&](size_t offset, size_t n) {
        return std::string_view(reinterpret_cast<const char*>(base64.expose().data()) + offset, n);
    };
    put("-----BEGIN "), put(label), put("-----\n");
    for (size_t offset = 0; offset < base64_len; offset += LINE)
        put(text(offset, std::min(LINE, base64_len - offset))), put("\n");
    put("-----END "), put(label), put("-----\n");
    if (at != out.size())
        abort();  // the size arithmetic above is wrong
    return out;
}

}  // namespace cvm::proto
