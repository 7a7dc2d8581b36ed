// The key-management primitives of the JWE core: the Concat KDF (the one written here), AES key
// wrap through mbedtls_nist_kw, and the algorithm names of a profile.
#include "kbs/jwe.h"

#include <mbedtls/cipher.h>
#include <mbedtls/nist_kw.h>
#include <mbedtls/sha256.h>

#include <algorithm>
#include <cstdlib>

#include "kbs/jwe_internal.h"
#include "kbs/tee_key.h"

namespace cvm::kbs {
namespace {

constexpr size_t SHA256_SIZE = 32;
constexpr size_t MAX_KDF_BITS = 256 * 8;

// mbedTLS's SHA-256 here is its software one (the build configures no MBEDTLS_SHA256_ALT or
// _PROCESS_ALT, subprojects/packagefiles/mbedtls), whose functions fail only for an is224 other
// than 0 or 1. A failure would be a broken build, never input: the process ends rather than return
// a key derived from an unfinished hash (concat_kdf_sha256 returns its key, no Result).
void must(int rc)
{
    if (rc != 0)
        abort();
}

struct Sha256 {
    Sha256()
    {
        mbedtls_sha256_init(&c);
        must(mbedtls_sha256_starts(&c, 0));
    }
    ~Sha256() { mbedtls_sha256_free(&c); }  // zeroises the state, which has seen Z
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(ByteView data)
    {
        if (!data.empty())
            must(mbedtls_sha256_update(&c, data.data(), data.size()));
    }
    void update_be32(uint32_t v)
    {
        const uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                              static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
        update(b);
    }
    mbedtls_sha256_context c;
};

struct KeyWrap {
    KeyWrap() { mbedtls_nist_kw_init(&c); }
    ~KeyWrap() { mbedtls_nist_kw_free(&c); }  // zeroises the AES key schedule of the KEK
    KeyWrap(const KeyWrap&) = delete;
    KeyWrap& operator=(const KeyWrap&) = delete;
    mbedtls_nist_kw_context c;
};

Result<void> set_kek(KeyWrap& kw, ByteView kek, int is_wrap, std::string_view what)
{
    if (!jwe::detail::is_aes_key_size(kek.size()))
        return Error::make(Errc::Config, "%.*s: key-wrap key of %zu bytes, expected 16, 24 or 32",
                           static_cast<int>(what.size()), what.data(), kek.size());
    int rc = mbedtls_nist_kw_setkey(&kw.c, MBEDTLS_CIPHER_ID_AES, kek.data(), static_cast<unsigned>(kek.size() * 8),
                                    is_wrap);
    if (rc != 0)
        return jwe::detail::mbedtls_failure(Errc::Crypto, rc, "AES key wrap key");
    return {};
}

}  // namespace

// RFC 7518 §4.6.2, which takes the KDF from NIST SP 800-56A §5.8.1 (the Concatenation Key
// Derivation Function, approved alternative 1): K(i) = SHA-256(counter_i || Z || OtherInfo) for
// i = 1, 2, ..., with the 32-bit big-endian counter, and OtherInfo = AlgorithmID || PartyUInfo ||
// PartyVInfo || SuppPubInfo, where the first three are "a 32-bit big-endian counter" of length
// followed by the octets, and SuppPubInfo is "keydatalen represented as a 32-bit big-endian
// integer". SuppPrivInfo is empty. Trustee's concat_kdf (kbs/src/jwe/mod.rs) is the same
// function with empty apu/apv.
SecretBytes concat_kdf_sha256(ByteView z, std::string_view algorithm, size_t key_bits, ByteView apu, ByteView apv)
{
    if (key_bits % 8 != 0 || key_bits > MAX_KDF_BITS)
        abort();  // a caller's contract violation (tee_key.h), never input-dependent
    SecretBytes key(key_bits / 8);
    std::span<uint8_t> out = key.expose();
    uint8_t block[SHA256_SIZE];
    for (uint32_t counter = 1; !out.empty(); ++counter) {
        Sha256 h;
        h.update_be32(counter);
        h.update(z);
        h.update_be32(static_cast<uint32_t>(algorithm.size()));
        h.update(as_bytes(algorithm));
        h.update_be32(static_cast<uint32_t>(apu.size()));
        h.update(apu);
        h.update_be32(static_cast<uint32_t>(apv.size()));
        h.update(apv);
        h.update_be32(static_cast<uint32_t>(key_bits));
        must(mbedtls_sha256_finish(&h.c, block));
        size_t n = std::min(out.size(), sizeof block);
        std::copy(block, block + n, out.begin());
        out = out.subspan(n);
    }
    secure_wipe(block);
    return key;
}

namespace jwe {

std::string detail::shown(std::string_view text)
{
    constexpr size_t MAX_SHOWN = 40;
    std::string out;
    for (char c : text.substr(0, MAX_SHOWN))
        out += (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') ? c : '?';
    if (text.size() > MAX_SHOWN)
        out += "...";
    return out;
}

std::string alg_name(const Profile& profile)
{
    return "ECDH-ES+A" + std::to_string(profile.kek_size * 8) + "KW";
}

std::string enc_name(const Profile& profile)
{
    return "A" + std::to_string(profile.cek_size * 8) + "GCM";
}

Result<SecretBytes> aes_key_unwrap(ByteView kek, ByteView wrapped, std::string_view what)
{
    const int w = static_cast<int>(what.size());
    // RFC 3394 §2: the wrapped key is n + 1 64-bit blocks with n >= 2.
    if (wrapped.size() % KW_BLOCK_SIZE != 0 || wrapped.size() < 3 * KW_BLOCK_SIZE)
        return Error::make(Errc::Format, "%.*s: %zu bytes, expected a multiple of 8 of at least 24", w, what.data(),
                           wrapped.size());
    KeyWrap kw;
    TRY(set_kek(kw, kek, 0, what));
    SecretBytes key(wrapped.size() - KW_BLOCK_SIZE);
    size_t length = 0;
    int rc = mbedtls_nist_kw_unwrap(&kw.c, MBEDTLS_KW_MODE_KW, wrapped.data(), wrapped.size(), key.expose().data(),
                                    &length, key.size());
    if (rc == MBEDTLS_ERR_CIPHER_AUTH_FAILED)
        return Error::make(Errc::Crypto,
                           "%.*s: AES key unwrap integrity check failed (RFC 3394 §2.2.3), expected a key wrapped "
                           "for this recipient",
                           w, what.data());
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "AES key unwrap");
    if (length != key.size())
        return Error::make(Errc::Crypto, "%.*s: AES key unwrap gave %zu bytes, expected %zu", w, what.data(), length,
                           key.size());
    return key;
}

Result<Bytes> aes_key_wrap(ByteView kek, ByteView key, std::string_view what)
{
    if (key.size() % KW_BLOCK_SIZE != 0 || key.size() < 2 * KW_BLOCK_SIZE)
        return Error::make(Errc::Config, "%.*s: key of %zu bytes, expected a multiple of 8 of at least 16",
                           static_cast<int>(what.size()), what.data(), key.size());
    KeyWrap kw;
    TRY(set_kek(kw, kek, 1, what));
    Bytes wrapped(key.size() + KW_BLOCK_SIZE);
    size_t length = 0;
    int rc = mbedtls_nist_kw_wrap(&kw.c, MBEDTLS_KW_MODE_KW, key.data(), key.size(), wrapped.data(), &length,
                                  wrapped.size());
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "AES key wrap");
    if (length != wrapped.size())
        return Error::make(Errc::Crypto, "%.*s: AES key wrap gave %zu bytes, expected %zu",
                           static_cast<int>(what.size()), what.data(), length, wrapped.size());
    return wrapped;
}

}  // namespace jwe
}  // namespace cvm::kbs
