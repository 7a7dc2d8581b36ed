#include "measure/signing_key.h"

#include <algorithm>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>

namespace cvm::measure {

struct SigningKey::State {
    State() { mbedtls_pk_init(&pk); }
    ~State() { mbedtls_pk_free(&pk); }  // zeroizes the private key
    mbedtls_pk_context pk;
};

namespace {

Error mbedtls_failure(Errc code, int rc, const char* what)
{
    char text[96];
    mbedtls_strerror(rc, text, sizeof text);
    return Error::make(code, "%s: %s (-0x%04x)", what, text, static_cast<unsigned>(-rc));
}

// A DRBG for mbedTLS's blinding and key checks; signatures themselves are deterministic.
class Drbg {
public:
    Drbg()
    {
        mbedtls_entropy_init(&m_entropy);
        mbedtls_ctr_drbg_init(&m_drbg);
    }
    ~Drbg()
    {
        mbedtls_ctr_drbg_free(&m_drbg);
        mbedtls_entropy_free(&m_entropy);
    }
    Drbg(const Drbg&) = delete;
    Drbg& operator=(const Drbg&) = delete;

    Result<void> seed()
    {
        static const char PERSONALISATION[] = "cvm id-block";
        int rc = mbedtls_ctr_drbg_seed(&m_drbg, mbedtls_entropy_func, &m_entropy,
                                       reinterpret_cast<const unsigned char*>(PERSONALISATION), sizeof PERSONALISATION);
        if (rc != 0)
            return mbedtls_failure(Errc::Crypto, rc, "cannot seed the random generator");
        return {};
    }
    mbedtls_ctr_drbg_context* context() { return &m_drbg; }

private:
    mbedtls_entropy_context m_entropy;
    mbedtls_ctr_drbg_context m_drbg;
};

// Big-endian field element from mbedTLS -> 72-byte little-endian AMD field.
void put_coordinate(uint8_t* out, const uint8_t* big_endian, size_t n)
{
    std::reverse_copy(big_endian, big_endian + n, out);
}

}  // namespace

SigningKey::SigningKey() : m_state(std::make_unique<State>()) {}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

Result<SigningKey> SigningKey::from_pem(const SecretBytes& pem)
{
    // mbedTLS wants PEM text NUL-terminated, with the NUL counted.
    SecretBytes text(pem.size() + 1);
    std::copy(pem.expose().begin(), pem.expose().end(), text.expose().begin());
    text.expose()[pem.size()] = 0;

    Drbg drbg;
    TRY(drbg.seed());
    SigningKey key;
    int rc = mbedtls_pk_parse_key(&key.m_state->pk, text.expose().data(), text.size(), nullptr, 0,
                                  mbedtls_ctr_drbg_random, drbg.context());
    if (rc != 0)
        return mbedtls_failure(Errc::Format, rc, "not an unencrypted PEM private key");
    if (mbedtls_pk_get_type(&key.m_state->pk) != MBEDTLS_PK_ECKEY)
        return Error::make(Errc::Unsupported, "not an EC private key: the ID block needs ECDSA P-384");
    const mbedtls_ecp_keypair* kp = mbedtls_pk_ec(key.m_state->pk);
    if (mbedtls_ecp_keypair_get_group_id(kp) != MBEDTLS_ECP_DP_SECP384R1)
        return Error::make(Errc::Unsupported, "the EC key is not on P-384 (secp384r1), the only curve SNP accepts");

    uint8_t point[1 + 2 * 48];
    size_t len = 0;
    rc = mbedtls_ecp_write_public_key(kp, MBEDTLS_ECP_PF_UNCOMPRESSED, &len, point, sizeof point);
    if (rc != 0 || len != sizeof point)
        return mbedtls_failure(Errc::Crypto, rc, "cannot export the public key");
    put_le32(key.m_public.data(), AMD_CURVE_P384);
    put_coordinate(key.m_public.data() + 0x04, point + 1, 48);
    put_coordinate(key.m_public.data() + 0x04 + AMD_ECC_COORD_SIZE, point + 1 + 48, 48);
    return key;
}

Result<AmdSignature> SigningKey::sign(ByteView message) const
{
    crypto::Sha384Digest hash = crypto::Sha384::of(message);
    Drbg drbg;
    TRY(drbg.seed());
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi d, r, s;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    AmdSignature sig{};
    int rc = mbedtls_ecp_export(mbedtls_pk_ec(m_state->pk), &grp, &d, &q);
    if (rc == 0)
        rc = mbedtls_ecdsa_sign_det_ext(&grp, &r, &s, &d, hash.data(), hash.size(), MBEDTLS_MD_SHA384,
                                        mbedtls_ctr_drbg_random, drbg.context());
    if (rc == 0)
        rc = mbedtls_ecdsa_verify(&grp, hash.data(), hash.size(), &q, &r, &s);
    if (rc == 0)
        rc = mbedtls_mpi_write_binary_le(&r, sig.data(), AMD_ECC_COORD_SIZE);
    if (rc == 0)
        rc = mbedtls_mpi_write_binary_le(&s, sig.data() + AMD_ECC_COORD_SIZE, AMD_ECC_COORD_SIZE);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&d);  // zeroizes the copy of the private scalar
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "ECDSA P-384 signing failed");
    return sig;
}

}  // namespace cvm::measure
