// mbedTLS plumbing for the simulated platform: a DRBG, an owned key, PEM (errors from
// crypto/mbedtls_util.h). Internal to lib/sim.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"
#include "base/result.h"
#include "base/secret.h"
#include "crypto/mbedtls_util.h"

namespace cvm::sim {

using crypto::mbedtls_failure;

// CTR_DRBG (NIST SP 800-90A) seeded from mbedTLS's entropy sources (getrandom on Linux). Not
// movable: the DRBG keeps a pointer to its entropy context, so it lives behind a unique_ptr.
// mbedTLS locks the DRBG itself (MBEDTLS_THREADING_C), so one instance may serve several threads.
class Drbg {
public:
    // `personalisation` separates the streams of different uses (SP 800-90A §8.7.1).
    static Result<std::unique_ptr<Drbg>> create(std::string_view personalisation);
    ~Drbg();
    Drbg(const Drbg&) = delete;
    Drbg& operator=(const Drbg&) = delete;

    Result<void> fill(std::span<uint8_t> out);
    // For mbedTLS's f_rng/p_rng parameters.
    static int random(void* self, unsigned char* out, size_t len);
    void* context() { return this; }

private:
    Drbg();
    mbedtls_entropy_context m_entropy;
    mbedtls_ctr_drbg_context m_drbg;
};

// An owned mbedtls_pk_context; freeing it zeroises private key material. Not movable (mbedTLS
// contexts hold internal pointers); pass it around as std::unique_ptr<PkKey>.
struct PkKey {
    PkKey() { mbedtls_pk_init(&pk); }
    ~PkKey() { mbedtls_pk_free(&pk); }
    PkKey(const PkKey&) = delete;
    PkKey& operator=(const PkKey&) = delete;
    mbedtls_pk_context pk;
};

// A private key from DER or PEM (SEC1 "EC PRIVATE KEY" or unencrypted PKCS#8) that must be EC on
// P-384. Errc::Format naming `what` otherwise.
Result<std::unique_ptr<PkKey>> parse_p384_private_key(ByteView der_or_pem, Drbg& drbg, const char* what);
// A private key from DER or PEM (PKCS#1 "RSA PRIVATE KEY" or unencrypted PKCS#8) that must be
// RSA-4096, as the simulated ARK's is. Errc::Format naming `what` otherwise.
Result<std::unique_ptr<PkKey>> parse_rsa4096_private_key(ByteView der_or_pem, Drbg& drbg, const char* what);

// SEC1 DER / PEM of a private key, in wiping storage.
Result<SecretBytes> private_key_der(const PkKey& key);
Result<SecretBytes> private_key_pem(const PkKey& key);
// The DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of a key.
Result<Bytes> public_key_info(const PkKey& key);

// One PEM block (RFC 7468) of `label`, e.g. "CERTIFICATE".
Result<std::string> pem_encode(const char* label, ByteView der);
// Exactly one CERTIFICATE block with nothing but whitespace around it; its DER. Errc::Format
// naming `what`.
Result<Bytes> pem_decode_certificate(std::string_view text, const char* what);

}  // namespace cvm::sim
