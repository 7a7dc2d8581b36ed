// Internal to lib/kbs's JWE files (jwe.cc, jwe_decrypt.cc, jwe_encrypt.cc): the pieces that both
// the decryptor and the encryptor use, defined once.
#pragma once

#include <mbedtls/gcm.h>

#include <cstddef>

namespace cvm::kbs::jwe::detail {

// An mbedTLS AES-GCM context; mbedtls_gcm_free zeroises the AES key schedule of the CEK.
struct Gcm {
    Gcm() { mbedtls_gcm_init(&c); }
    ~Gcm() { mbedtls_gcm_free(&c); }
    Gcm(const Gcm&) = delete;
    Gcm& operator=(const Gcm&) = delete;
    mbedtls_gcm_context c;
};

// AES-128, AES-192 or AES-256 (RFC 7518 §4.8 and §5.3 define no other key-wrap or GCM key sizes).
constexpr bool is_aes_key_size(size_t size)
{
    return size == 16 || size == 24 || size == 32;
}

}  // namespace cvm::kbs::jwe::detail
