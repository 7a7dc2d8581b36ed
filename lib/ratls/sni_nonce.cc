#include "ratls/sni_nonce.h"

#include <algorithm>

namespace cvm::ratls {

namespace {

constexpr char ALPHABET[] = "abcdefghijklmnopqrstuvwxyz234567";  // RFC 4648 §6, lower case

int symbol_value(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

std::string base32(ByteView data)
{
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (uint8_t b : data) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            out += ALPHABET[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out += ALPHABET[(buffer << (5 - bits)) & 31];
    return out;
}

}  // namespace

Result<std::string> sni_for_nonce(ByteView nonce)
{
    if (nonce.empty() || nonce.size() > MAX_SNI_NONCE)
        return Error::make(Errc::Config, "an SNI nonce is 1 to %zu bytes, not %zu", MAX_SNI_NONCE, nonce.size());
    return base32(nonce) + std::string(SNI_NONCE_SUFFIX);
}

Result<std::optional<Bytes>> nonce_from_sni(std::string_view name)
{
    if (name.size() < SNI_NONCE_SUFFIX.size())
        return std::optional<Bytes>();
    std::string_view suffix = name.substr(name.size() - SNI_NONCE_SUFFIX.size());
    for (size_t i = 0; i < suffix.size(); ++i) {
        char c = suffix[i];
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        if (c != SNI_NONCE_SUFFIX[i])
            return std::optional<Bytes>();
    }
    std::string_view label = name.substr(0, name.size() - SNI_NONCE_SUFFIX.size());
    // 8n/5 rounded up: 2, 4, 5, 7 or 8 symbols per 1..5 bytes; other lengths encode no byte string.
    size_t rem = label.size() % 8;
    if (label.empty() || label.size() > (MAX_SNI_NONCE * 8 + 4) / 5 || rem == 1 || rem == 3 || rem == 6)
        return Error::make(
            Errc::Format, "SNI nonce label '%.*s' has %zu characters: expected the base32 of 1 to %zu bytes",
            static_cast<int>(std::min<size_t>(label.size(), 64)), label.data(), label.size(), MAX_SNI_NONCE);
    Bytes nonce;
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : label) {
        int v = symbol_value(c);
        if (v < 0)
            return Error::make(Errc::Format, "SNI nonce label '%.*s' holds '%c': expected base32 (a-z, 2-7)",
                               static_cast<int>(label.size()), label.data(), c);
        buffer = (buffer << 5) | static_cast<uint32_t>(v);
        bits += 5;
        if (bits >= 8) {
            nonce.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
            bits -= 8;
        }
    }
    if ((buffer & ((1u << bits) - 1)) != 0)
        return Error::make(Errc::Format,
                           "SNI nonce label '%.*s' is not canonical base32: its last %d bits are not zero",
                           static_cast<int>(label.size()), label.data(), bits);
    return std::optional<Bytes>(std::move(nonce));
}

}  // namespace cvm::ratls
