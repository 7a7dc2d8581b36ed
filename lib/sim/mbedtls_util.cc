#include "sim/mbedtls_util.h"

#include <mbedtls/pem.h>

#include <algorithm>
#include <cstring>

namespace cvm::sim {

Drbg::Drbg()
{
    mbedtls_entropy_init(&m_entropy);
    mbedtls_ctr_drbg_init(&m_drbg);
}

Drbg::~Drbg()
{
    mbedtls_ctr_drbg_free(&m_drbg);
    mbedtls_entropy_free(&m_entropy);
}

Result<std::unique_ptr<Drbg>> Drbg::create(std::string_view personalisation)
{
    std::unique_ptr<Drbg> d(new Drbg);
    int rc =
        mbedtls_ctr_drbg_seed(&d->m_drbg, mbedtls_entropy_func, &d->m_entropy,
                              reinterpret_cast<const unsigned char*>(personalisation.data()), personalisation.size());
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "cannot seed the random generator");
    return d;
}

Result<void> Drbg::fill(std::span<uint8_t> out)
{
    // mbedtls_ctr_drbg_random serves at most MBEDTLS_CTR_DRBG_MAX_REQUEST bytes per call.
    for (size_t done = 0; done < out.size();) {
        size_t n = std::min<size_t>(out.size() - done, MBEDTLS_CTR_DRBG_MAX_REQUEST);
        int rc = mbedtls_ctr_drbg_random(&m_drbg, out.data() + done, n);
        if (rc != 0)
            return mbedtls_failure(Errc::Crypto, rc, "random generator failed");
        done += n;
    }
    return {};
}

int Drbg::random(void* self, unsigned char* out, size_t len)
{
    return mbedtls_ctr_drbg_random(&static_cast<Drbg*>(self)->m_drbg, out, len);
}

namespace {

Result<std::unique_ptr<PkKey>> parse_private_key(ByteView der_or_pem, Drbg& drbg, const char* what)
{
    // mbedTLS detects PEM by a NUL-terminated buffer whose length counts the NUL.
    SecretBytes text(der_or_pem.size() + 1);
    std::copy(der_or_pem.begin(), der_or_pem.end(), text.expose().begin());
    bool pem = der_or_pem.size() >= 10 && memcmp(der_or_pem.data(), "-----BEGIN", 10) == 0;
    auto key = std::make_unique<PkKey>();
    int rc = mbedtls_pk_parse_key(&key->pk, text.expose().data(), pem ? text.size() : der_or_pem.size(), nullptr, 0,
                                  Drbg::random, drbg.context());
    if (rc != 0) {
        Error e = mbedtls_failure(Errc::Format, rc, "not an unencrypted private key");
        return e.prefix("%s", what);
    }
    return key;
}

}  // namespace

Result<std::unique_ptr<PkKey>> parse_p384_private_key(ByteView der_or_pem, Drbg& drbg, const char* what)
{
    auto key = TRY(parse_private_key(der_or_pem, drbg, what));
    if (mbedtls_pk_get_type(&key->pk) != MBEDTLS_PK_ECKEY ||
        mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(key->pk)) != MBEDTLS_ECP_DP_SECP384R1)
        return Error::make(Errc::Format, "%s: the key is not EC on P-384 (secp384r1), as a VCEK is", what);
    return key;
}

Result<std::unique_ptr<PkKey>> parse_rsa4096_private_key(ByteView der_or_pem, Drbg& drbg, const char* what)
{
    auto key = TRY(parse_private_key(der_or_pem, drbg, what));
    if (mbedtls_pk_get_type(&key->pk) != MBEDTLS_PK_RSA || mbedtls_pk_get_bitlen(&key->pk) != 4096)
        return Error::make(Errc::Format, "%s: the key is %s of %zu bits; expected RSA-4096, as an ARK is", what,
                           mbedtls_pk_get_name(&key->pk), mbedtls_pk_get_bitlen(&key->pk));
    return key;
}

namespace {

// mbedTLS writes DER at the end of the buffer and returns its length; PEM from the start,
// NUL-terminated. Both go through wiping storage.
constexpr size_t KEY_BUFFER = 4096;

}  // namespace

Result<SecretBytes> private_key_der(const PkKey& key)
{
    SecretBytes buf(KEY_BUFFER);
    int n = mbedtls_pk_write_key_der(&key.pk, buf.expose().data(), buf.size());
    if (n <= 0)
        return mbedtls_failure(Errc::Crypto, n, "cannot encode the private key");
    return SecretBytes::copy_of(buf.expose().last(static_cast<size_t>(n)));
}

Result<SecretBytes> private_key_pem(const PkKey& key)
{
    SecretBytes buf(KEY_BUFFER);
    int rc = mbedtls_pk_write_key_pem(&key.pk, buf.expose().data(), buf.size());
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "cannot encode the private key as PEM");
    size_t len = strnlen(reinterpret_cast<const char*>(buf.expose().data()), buf.size());
    return SecretBytes::copy_of(buf.expose().first(len));
}

Result<Bytes> public_key_info(const PkKey& key)
{
    Bytes buf(KEY_BUFFER);
    int n = mbedtls_pk_write_pubkey_der(const_cast<mbedtls_pk_context*>(&key.pk), buf.data(), buf.size());
    if (n <= 0)
        return mbedtls_failure(Errc::Crypto, n, "cannot encode the public key");
    return Bytes(buf.end() - n, buf.end());
}

Result<std::string> pem_encode(const char* label, ByteView der)
{
    std::string header = std::string("-----BEGIN ") + label + "-----\n";
    std::string footer = std::string("-----END ") + label + "-----\n";
    size_t len = 0;
    mbedtls_pem_write_buffer(header.c_str(), footer.c_str(), der.data(), der.size(), nullptr, 0, &len);
    Bytes buf(len);
    int rc =
        mbedtls_pem_write_buffer(header.c_str(), footer.c_str(), der.data(), der.size(), buf.data(), buf.size(), &len);
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "cannot encode PEM");
    // `len` counts the terminating NUL.
    return std::string(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len - 1));
}

namespace {

bool only_whitespace(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

}  // namespace

Result<Bytes> pem_decode_certificate(std::string_view text, const char* what)
{
    constexpr std::string_view BEGIN = "-----BEGIN CERTIFICATE-----";
    size_t begin = text.find(BEGIN);
    if (begin == std::string_view::npos || !only_whitespace(text.substr(0, begin)))
        return Error::make(Errc::Format, "%s: expected one PEM CERTIFICATE block", what);
    std::string copy(text.substr(begin));  // mbedTLS wants NUL-terminated text
    mbedtls_pem_context pem;
    mbedtls_pem_init(&pem);
    size_t used = 0;
    int rc = mbedtls_pem_read_buffer(&pem, "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----",
                                     reinterpret_cast<const unsigned char*>(copy.c_str()), nullptr, 0, &used);
    Bytes der;
    if (rc == 0) {
        size_t len = 0;
        const unsigned char* p = mbedtls_pem_get_buffer(&pem, &len);
        der.assign(p, p + len);
    }
    mbedtls_pem_free(&pem);
    if (rc != 0) {
        Error e = mbedtls_failure(Errc::Format, rc, "bad PEM CERTIFICATE block");
        return e.prefix("%s", what);
    }
    if (!only_whitespace(std::string_view(copy).substr(used)))
        return Error::make(Errc::Format, "%s: text after the PEM CERTIFICATE block (one certificate expected)", what);
    return der;
}

}  // namespace cvm::sim
