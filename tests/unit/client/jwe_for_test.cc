#include "jwe_for_test.h"

#include <doctest.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/gcm.h>
#include <mbedtls/nist_kw.h>
#include <sodium.h>

#include <array>

#include "base/base64.h"
#include "kbs/tee_key.h"

namespace cvm::test {
namespace {

int random_bytes(void*, unsigned char* out, size_t size)
{
    randombytes_buf(out, size);
    return 0;
}

// Z, the shared x-coordinate (RFC 7518 §4.6.2), and the ephemeral public point's coordinates.
struct Agreement {
    std::array<uint8_t, 32> z{}, x{}, y{};
};

Agreement agree(std::string_view x, std::string_view y)
{
    auto px = base64url_decode(x), py = base64url_decode(y);
    REQUIRE(px);
    REQUIRE(py);
    REQUIRE(px->size() == 32);
    REQUIRE(py->size() == 32);
    Bytes uncompressed{0x04};
    uncompressed.insert(uncompressed.end(), px->begin(), px->end());
    uncompressed.insert(uncompressed.end(), py->begin(), py->end());

    mbedtls_ecp_group group;
    mbedtls_ecp_point peer, ephemeral;
    mbedtls_mpi d, z;
    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&peer);
    mbedtls_ecp_point_init(&ephemeral);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&z);
    Agreement out;
    bool ok = mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
              mbedtls_ecp_point_read_binary(&group, &peer, uncompressed.data(), uncompressed.size()) == 0 &&
              mbedtls_ecp_check_pubkey(&group, &peer) == 0 &&
              mbedtls_ecp_gen_keypair(&group, &d, &ephemeral, random_bytes, nullptr) == 0 &&
              mbedtls_ecdh_compute_shared(&group, &z, &peer, &d, random_bytes, nullptr) == 0 &&
              mbedtls_mpi_write_binary(&z, out.z.data(), out.z.size()) == 0 &&
              mbedtls_mpi_write_binary(&ephemeral.MBEDTLS_PRIVATE(X), out.x.data(), out.x.size()) == 0 &&
              mbedtls_mpi_write_binary(&ephemeral.MBEDTLS_PRIVATE(Y), out.y.data(), out.y.size()) == 0;
    mbedtls_mpi_free(&z);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_point_free(&ephemeral);
    mbedtls_ecp_point_free(&peer);
    mbedtls_ecp_group_free(&group);
    REQUIRE(ok);
    return out;
}

}  // namespace

std::string jwe_to(std::string_view x, std::string_view y, ByteView plaintext)
{
    Agreement a = agree(x, y);
    SecretBytes kek = kbs::concat_kdf_sha256(a.z, "ECDH-ES+A256KW", 256);
    REQUIRE(kek.size() == 32);

    std::array<uint8_t, 32> cek{};
    std::array<uint8_t, 12> iv{};
    randombytes_buf(cek.data(), cek.size());
    randombytes_buf(iv.data(), iv.size());

    std::array<uint8_t, 40> wrapped{};
    size_t wrapped_size = 0;
    mbedtls_nist_kw_context kw;
    mbedtls_nist_kw_init(&kw);
    int rc = mbedtls_nist_kw_setkey(&kw, MBEDTLS_CIPHER_ID_AES, kek.expose().data(), 256, 1);
    if (rc == 0)
        rc = mbedtls_nist_kw_wrap(&kw, MBEDTLS_KW_MODE_KW, cek.data(), cek.size(), wrapped.data(), &wrapped_size,
                                  wrapped.size());
    mbedtls_nist_kw_free(&kw);
    REQUIRE(rc == 0);
    REQUIRE(wrapped_size == 40);

    std::string header =
        "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" +
        base64url_encode(a.x) + "\",\"y\":\"" + base64url_encode(a.y) + "\"}}";
    std::string protected_b64 = base64url_encode(as_bytes(header));

    Bytes ciphertext(plaintext.size());
    std::array<uint8_t, 16> tag{};
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, cek.data(), 256);
    if (rc == 0)
        rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, plaintext.size(), iv.data(), iv.size(),
                                       reinterpret_cast<const uint8_t*>(protected_b64.data()), protected_b64.size(),
                                       plaintext.data(), ciphertext.data(), tag.size(), tag.data());
    mbedtls_gcm_free(&gcm);
    REQUIRE(rc == 0);

    return "{\"protected\":\"" + protected_b64 + "\",\"encrypted_key\":\"" +
           base64url_encode(ByteView(wrapped.data(), wrapped_size)) + "\",\"iv\":\"" + base64url_encode(iv) +
           "\",\"ciphertext\":\"" + base64url_encode(ciphertext) + "\",\"tag\":\"" + base64url_encode(tag) + "\"}";
}

}  // namespace cvm::test
