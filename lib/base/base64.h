// Base64 as RFC 4648 §4 defines it: the standard alphabet with '=' padding. sev-snp-measure,
// QEMU's id-block=/id-auth= and the cvmkb/1 wire protocol all use this form.
//
// Decoding is strict and constant-time in the data (libsodium's decoder): padding is required,
// no whitespace or other characters are skipped, and the unused low bits of the last symbol must
// be zero, so every byte string has exactly one accepted encoding. That makes base64 text safe to
// compare, hash or sign as it arrived.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/secret.h"

namespace cvm {

std::string base64_encode(ByteView data);

// nullopt for anything that is not the canonical encoding of some byte string.
std::optional<Bytes> base64_decode(std::string_view text);

// The same, into wiping storage for key material; nullopt as above (nothing is left behind).
std::optional<SecretBytes> base64_decode_secret(std::string_view text);

// base64url without padding (RFC 4648 §5; "base64url" of RFC 7515 §2), as JOSE and the RATS
// CMW JSON record use it. Decoding is as strict as above: no padding, no whitespace, no
// character outside the URL-safe alphabet, zero unused bits, so the encoding is canonical.
std::string base64url_encode(ByteView data);
std::optional<Bytes> base64url_decode(std::string_view text);

// Decodes text that must hold exactly N bytes (a nonce, a public key); nullopt otherwise.
template <size_t N>
std::optional<std::array<uint8_t, N>> base64_decode_fixed(std::string_view text)
{
    auto bytes = base64_decode(text);
    if (!bytes || bytes->size() != N)
        return std::nullopt;
    std::array<uint8_t, N> out;
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

}  // namespace cvm
