#include "storage/luks2_keyslot.h"

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <sodium.h>

#include <cstdlib>
#include <cstring>

#include "crypto/digest.h"

namespace cvm::storage::luks2 {
namespace {

constexpr size_t DIGEST_SIZE = 32;  // SHA-256, the af.hash of the strict profile

// LUKS1 spec §2.4, "diffuse": the block is hashed in digest-sized pieces, piece i as
// H(be32(i) || piece), each replaced by its hash (a last short piece by a prefix of it).
void diffuse(std::span<uint8_t> block)
{
    for (size_t i = 0, at = 0; at < block.size(); ++i, at += DIGEST_SIZE) {
        size_t n = std::min(DIGEST_SIZE, block.size() - at);
        uint8_t counter[4] = {static_cast<uint8_t>(i >> 24), static_cast<uint8_t>(i >> 16),
                              static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
        crypto::Sha256 sha;
        sha.update(counter);
        sha.update(block.subspan(at, n));
        crypto::Sha256Digest h = sha.finish();
        memcpy(block.data() + at, h.data(), n);
        secure_wipe(h);
    }
}

void xor_into(std::span<uint8_t> out, ByteView in)
{
    for (size_t i = 0; i < out.size(); ++i)
        out[i] ^= in[i];
}

}  // namespace

void fill_random(std::span<uint8_t> out)
{
    // sodium_init() seeds the random source and picks implementations; idempotent, thread-safe.
    static const int rc = sodium_init();
    if (rc < 0)
        abort();  // no CSPRNG: nothing safe to do
    randombytes_buf(out.data(), out.size());
}

Result<SecretBytes> pbkdf2_sha256(ByteView secret, ByteView salt, uint32_t iterations, size_t length)
{
    SecretBytes out(length);
    int rc = mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, secret.data(), secret.size(), salt.data(), salt.size(),
                                           iterations, static_cast<uint32_t>(length), out.expose().data());
    if (rc != 0)
        return Error::make(Errc::Crypto, "luks2: PBKDF2-SHA256 failed (mbedTLS -0x%04x)", static_cast<unsigned>(-rc));
    return out;
}

SecretBytes af_split(ByteView key)
{
    if (key.size() != AF_KEY_SIZE)
        abort();
    SecretBytes material(AF_MATERIAL_SIZE);
    std::span<uint8_t> m = material.expose();
    SecretBytes running(AF_KEY_SIZE);
    std::span<uint8_t> d = running.expose();
    for (uint32_t i = 0; i + 1 < AF_STRIPES; ++i) {
        std::span<uint8_t> stripe = m.subspan(i * AF_KEY_SIZE, AF_KEY_SIZE);
        fill_random(stripe);
        xor_into(d, stripe);
        diffuse(d);
    }
    std::span<uint8_t> last = m.subspan((AF_STRIPES - 1) * AF_KEY_SIZE, AF_KEY_SIZE);
    memcpy(last.data(), key.data(), AF_KEY_SIZE);
    xor_into(last, d);
    return material;
}

SecretBytes af_merge(ByteView material)
{
    if (material.size() != AF_MATERIAL_SIZE)
        abort();
    SecretBytes key(AF_KEY_SIZE);
    std::span<uint8_t> d = key.expose();
    for (uint32_t i = 0; i + 1 < AF_STRIPES; ++i) {
        xor_into(d, material.subspan(i * AF_KEY_SIZE, AF_KEY_SIZE));
        diffuse(d);
    }
    xor_into(d, material.subspan((AF_STRIPES - 1) * AF_KEY_SIZE, AF_KEY_SIZE));
    return key;
}

}  // namespace cvm::storage::luks2
