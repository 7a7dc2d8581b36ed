#include "base/base64.h"

#include <sodium.h>

namespace cvm {
namespace {

constexpr int VARIANT = sodium_base64_VARIANT_ORIGINAL;

// Decodes into `out` (sized for the longest result); the decoded length, or nullopt.
std::optional<size_t> decode_into(std::string_view text, std::span<uint8_t> out)
{
    if (text.size() % 4 != 0)
        return std::nullopt;
    if (text.empty())  // libsodium declares its pointers nonnull even for empty input
        return 0;
    size_t written = 0;
    const char* end = nullptr;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &written, &end, VARIANT) != 0)
        return std::nullopt;
    if (end != text.data() + text.size())  // libsodium stops at the first byte it does not take
        return std::nullopt;
    return written;
}

}  // namespace

std::string base64_encode(ByteView data)
{
    std::string out(sodium_base64_encoded_len(data.size(), VARIANT), '\0');
    sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), VARIANT);
    out.resize(out.size() - 1);  // the encoder's NUL terminator
    return out;
}

std::optional<Bytes> base64_decode(std::string_view text)
{
    Bytes out(text.size() / 4 * 3);
    auto written = decode_into(text, out);
    if (!written)
        return std::nullopt;
    out.resize(*written);
    return out;
}

std::string base64url_encode(ByteView data)
{
    constexpr int URL = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_encoded_len(data.size(), URL), '\0');
    sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), URL);
    out.resize(out.size() - 1);  // the encoder's NUL terminator
    return out;
}

std::optional<Bytes> base64url_decode(std::string_view text)
{
    constexpr int URL = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    if (text.size() % 4 == 1)  // no byte string encodes to 4k+1 symbols
        return std::nullopt;
    if (text.empty())  // libsodium declares its pointers nonnull even for empty input
        return Bytes{};
    Bytes out(text.size() / 4 * 3 + 2);
    size_t written = 0;
    const char* end = nullptr;
    // libsodium refuses non-zero unused bits and, in a NO_PADDING variant, any '=' (it is not in
    // the alphabet), so only the canonical encoding decodes.
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &written, &end, URL) != 0)
        return std::nullopt;
    if (end != text.data() + text.size())  // libsodium stops at the first byte it does not take
        return std::nullopt;
    out.resize(written);
    return out;
}

std::optional<SecretBytes> base64_decode_secret(std::string_view text)
{
    SecretBytes scratch(text.size() / 4 * 3);
    auto written = decode_into(text, scratch.expose());
    if (!written)
        return std::nullopt;
    return SecretBytes::copy_of(scratch.expose().first(*written));
}

}  // namespace cvm
