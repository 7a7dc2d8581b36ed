// The ID block and ID auth block. Expected key digests were computed with sev-snp-measure's
// id_block.py (0.0.13) on the committed test keys (keys/*_TEST_ONLY.pem, made with
// `openssl ecparam -name secp384r1 -genkey -noout` and `openssl genpkey -algorithm EC
// -pkeyopt ec_paramgen_curve:P-384`); signatures are checked with mbedTLS here.
#include <doctest.h>

#include <mbedtls/ecdsa.h>

#include "base/file.h"
#include "measure/id_block.h"

using namespace cvm;
using namespace cvm::measure;

namespace {

SigningKey key(const char* name)
{
    Bytes pem = read_file(std::string(MEASURE_TEST_KEYS) + "/" + name, 1 << 16).value();
    return SigningKey::from_pem(SecretBytes::copy_of(pem)).release_value();
}

// Verifies an AMD-format signature of `message` with an AMD-format public key.
bool verifies(ByteView public_key, ByteView signature, ByteView message)
{
    auto le_mpi = [](mbedtls_mpi& x, ByteView field) { return mbedtls_mpi_read_binary_le(&x, field.data(), 72); };
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    crypto::Sha384Digest hash = crypto::Sha384::of(message);
    int rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP384R1);
    rc = rc ? rc : le_mpi(q.MBEDTLS_PRIVATE(X), public_key.subspan(4, 72));
    rc = rc ? rc : le_mpi(q.MBEDTLS_PRIVATE(Y), public_key.subspan(76, 72));
    rc = rc ? rc : mbedtls_mpi_lset(&q.MBEDTLS_PRIVATE(Z), 1);
    rc = rc ? rc : le_mpi(r, signature.subspan(0, 72));
    rc = rc ? rc : le_mpi(s, signature.subspan(72, 72));
    rc = rc ? rc : mbedtls_ecdsa_verify(&grp, hash.data(), hash.size(), &q, &r, &s);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return rc == 0 && all_zero(signature.subspan(144));
}

}  // namespace

TEST_CASE("the ID block of sev-snp-measure's test")
{
    // test_id_block.py: ld = base64 "B28FLQi9p6cAqipgjFyqawDrrSl7bWioWkWx5mmlWLZ+G5HShKMB/mPE+gdQRn7t",
    // and the block it expects, AAAA...AAABAAAAAAAAAAAAAwAAAAAA after the digest.
    IdBlockParams p;
    Bytes ld =
        from_hex("076f052d08bda7a700aa2a608c5caa6b00ebad297b6d68a85a45b1e669a558b67e1b91d284a301fe63c4fa0750467eed")
            .value();
    std::copy(ld.begin(), ld.end(), p.ld.begin());
    IdBlock b = build_id_block(p);
    CHECK(to_hex(b) == to_hex(ld) + std::string(64, '0') + "01000000" + "00000000" + "0000030000000000");

    p.family_id.fill(0xAB);
    p.image_id.fill(0xCD);
    p.guest_svn = 7;
    p.policy = 0xB0000;
    b = build_id_block(p);
    CHECK(to_hex(ByteView(b).subspan(0x30, 0x28)) ==
          to_hex(p.family_id) + to_hex(p.image_id) + "01000000" + "07000000");
    CHECK(to_hex(ByteView(b).subspan(0x58)) == "00000b0000000000");
}

TEST_CASE("key digests are SHA-384 of AMD's public key structure")
{
    SigningKey id = key("id_key_TEST_ONLY.pem");          // SEC1 "EC PRIVATE KEY"
    SigningKey author = key("author_key_TEST_ONLY.pem");  // PKCS#8 "PRIVATE KEY"
    CHECK(to_hex(id.key_digest()) ==
          "783eadc10ba1639a92e7bc4fe79e207973535afb78ea51db5a7f274ca574cd19bd8e0a0fa5eaa751857f8cb735d2d862");
    CHECK(to_hex(author.key_digest()) ==
          "fc87e49be851aaba7beb255b7b0f2c313f25a83981f315ed19835a01d5402f8be8ae9fda78461fa6e1549986913f1098");
    CHECK(get_le32(id.public_key().data()) == AMD_CURVE_P384);
    CHECK(all_zero(ByteView(id.public_key()).subspan(0x94)));
}

TEST_CASE("ID auth: layout, signatures, determinism")
{
    SigningKey id = key("id_key_TEST_ONLY.pem");
    SigningKey author = key("author_key_TEST_ONLY.pem");
    IdBlockParams p;
    p.ld.fill(0x42);
    SignedIdBlock s = sign_id_block(p, id, &author).value();
    ByteView auth(s.auth);
    CHECK(get_le32(auth.data()) == 1);
    CHECK(get_le32(auth.data() + 4) == 1);
    CHECK(all_zero(auth.subspan(0x8, 0x38)));
    CHECK(std::equal(id.public_key().begin(), id.public_key().end(), s.auth.begin() + 0x240));
    CHECK(std::equal(author.public_key().begin(), author.public_key().end(), s.auth.begin() + 0x880));
    CHECK(all_zero(auth.subspan(0x644, 0x3C)));
    CHECK(all_zero(auth.subspan(0xC84)));
    CHECK(verifies(id.public_key(), auth.subspan(0x40, 0x200), s.block));
    CHECK(verifies(author.public_key(), auth.subspan(0x680, 0x200), id.public_key()));
    CHECK_FALSE(verifies(author.public_key(), auth.subspan(0x40, 0x200), s.block));
    CHECK(s.id_key_digest == id.key_digest());
    CHECK(s.author_key_digest == author.key_digest());

    SignedIdBlock again = sign_id_block(p, id, &author).value();
    CHECK(again.auth == s.auth);

    SignedIdBlock id_only = sign_id_block(p, id, nullptr).value();
    CHECK(all_zero(ByteView(id_only.auth).subspan(0x680)));
    CHECK_FALSE(id_only.author_key_digest);
    CHECK(std::equal(s.auth.begin(), s.auth.begin() + 0x680, id_only.auth.begin()));
}

TEST_CASE("keys that cannot sign an ID block")
{
    Bytes p256 = read_file(std::string(MEASURE_TEST_KEYS) + "/p256_key_TEST_ONLY.pem", 1 << 16).value();
    auto wrong_curve = SigningKey::from_pem(SecretBytes::copy_of(p256));
    REQUIRE_FALSE(wrong_curve.ok());
    CHECK(std::string(wrong_curve.error().message()).find("not on P-384") != std::string::npos);
    auto garbage = SigningKey::from_pem(SecretBytes::copy_of(as_bytes("-----BEGIN EC PRIVATE KEY-----\nAAAA\n")));
    REQUIRE_FALSE(garbage.ok());
    CHECK(std::string(garbage.error().message()).find("not an unencrypted PEM private key") != std::string::npos);
}
