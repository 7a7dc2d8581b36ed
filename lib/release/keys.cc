// Release keys: P-256 through mbedTLS's pk layer, Ed25519 through lib/proto's libsodium key pair,
// their PEM files through lib/proto's strict PEM codec, and SPKI checks through lib/ratls.
#include "release/keys.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>

#include <cstring>
#include <mutex>
#include <optional>

#include "base/der.h"
#include "base/file.h"
#include "crypto/digest.h"
#include "crypto/mbedtls_util.h"
#include "proto/keys.h"
#include "proto/pem.h"
#include "ratls/ratls.h"

// A release signed twice must be the same bytes (release.h): mbedtls_ecdsa_write_signature takes
// RFC 6979's deterministic nonce only when this is configured (ecdsa.c:
// mbedtls_ecdsa_write_signature_restartable -> mbedtls_ecdsa_sign_det_restartable).
#if !defined(MBEDTLS_ECDSA_DETERMINISTIC)
#error "release signatures need MBEDTLS_ECDSA_DETERMINISTIC (RFC 6979)"
#endif

namespace cvm::release {
namespace {

constexpr size_t MAX_KEY_FILE_SIZE = 16 * 1024;
constexpr size_t P256_SCALAR_SIZE = 32;
constexpr size_t P256_POINT_SIZE = 65;     // 0x04 || X || Y (SEC 1 §2.3.3)
constexpr size_t ED25519_SPKI_SIZE = 44;   // RFC 8410 §4: 12 bytes of DER, then the key
constexpr size_t MAX_ECDSA_DER_SIZE = 72;  // SEQUENCE { INTEGER r, INTEGER s }, each <= 33 bytes

// DER contents of the OIDs that decide the key kind (RFC 5480 §2.1.1, RFC 8410 §3).
constexpr uint8_t OID_EC_PUBLIC_KEY[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01};
constexpr uint8_t OID_PRIME256V1[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
constexpr uint8_t OID_ED25519[] = {0x2B, 0x65, 0x70};

// PKCS#8 OneAsymmetricKey v1 (RFC 5958) of a P-256 key, byte for byte as `openssl genpkey
// -algorithm EC -pkeyopt ec_paramgen_curve:P-256` writes it: the curve in the AlgorithmIdentifier
// and an ECPrivateKey (RFC 5915 §3) with the scalar and the public point, no [0] parameters.
constexpr uint8_t P256_PKCS8_HEAD[] = {0x30, 0x81, 0x87, 0x02, 0x01, 0x00,  // SEQUENCE, version 0
                                       0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02,
                                       0x01,                                                        // id-ecPublicKey
                                       0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07,  // prime256v1
                                       0x04, 0x6D, 0x30, 0x6B, 0x02, 0x01, 0x01, 0x04, 0x20};  // ECPrivateKey v1, d
constexpr uint8_t P256_PKCS8_POINT[] = {0xA1, 0x44, 0x03, 0x42, 0x00};                         // [1] publicKey
constexpr size_t P256_PKCS8_SIZE =
    sizeof P256_PKCS8_HEAD + P256_SCALAR_SIZE + sizeof P256_PKCS8_POINT + P256_POINT_SIZE;
static_assert(P256_PKCS8_SIZE == 138);

bool same(ByteView a, ByteView b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

using crypto::mbedtls_failure;
using crypto::random_bytes;

// The algorithm of a SubjectPublicKeyInfo or of a PKCS#8 key ("key" names which), from the
// AlgorithmIdentifier alone. Errc::Unsupported names what else was found.
Result<KeyKind> algorithm_kind(ByteView algorithm, const char* what)
{
    Reader a(algorithm, what);
    ByteView oid = TRY(der::read(a, der::OID, "AlgorithmIdentifier.algorithm"));
    ByteView parameters;
    if (!a.at_end())
        parameters = TRY(der::read_any(a, "AlgorithmIdentifier.parameters")).content;
    if (same(oid, OID_ED25519))
        return KeyKind::Ed25519;
    if (same(oid, OID_EC_PUBLIC_KEY) && same(parameters, OID_PRIME256V1))
        return KeyKind::EcdsaP256;
    return Error::make(Errc::Unsupported, "%s: %s, expected ECDSA P-256 (id-ecPublicKey, prime256v1) or Ed25519", what,
                       same(oid, OID_EC_PUBLIC_KEY) ? "an EC key on another curve" : "another algorithm");
}

// SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
Result<KeyKind> spki_kind(ByteView spki)
{
    Reader outer(spki, "release public key");
    Reader r(TRY(der::read(outer, der::SEQUENCE, "SubjectPublicKeyInfo")), "release public key");
    return algorithm_kind(TRY(der::read(r, der::SEQUENCE, "SubjectPublicKeyInfo.algorithm")), "release public key");
}

// OneAsymmetricKey ::= SEQUENCE { version INTEGER, privateKeyAlgorithm AlgorithmIdentifier, ... }
Result<KeyKind> pkcs8_kind(ByteView der)
{
    Reader outer(der, "release private key");
    Reader r(TRY(der::read(outer, der::SEQUENCE, "OneAsymmetricKey")), "release private key");
    TRY(der::read(r, der::INTEGER, "OneAsymmetricKey.version"));
    return algorithm_kind(TRY(der::read(r, der::SEQUENCE, "OneAsymmetricKey.privateKeyAlgorithm")),
                          "release private key");
}

struct PkContext {
    PkContext() { mbedtls_pk_init(&pk); }
    ~PkContext() { mbedtls_pk_free(&pk); }
    PkContext(const PkContext&) = delete;
    PkContext& operator=(const PkContext&) = delete;
    mbedtls_pk_context pk;
};

}  // namespace

// --- PublicKey ---------------------------------------------------------------------------------

Result<PublicKey> PublicKey::parse_pem(std::string_view pem)
{
    // The algorithm first, so that a well-formed key of another kind is Unsupported by name;
    // then lib/ratls's checks (one block, the point on the curve or a valid Ed25519 point).
    if (auto der = proto::pem_decode(pem, "PUBLIC KEY"); der.ok())
        TRY(spki_kind(der->expose()));
    PublicKey key;
    key.m_spki = TRY(ratls::subject_spki_from_pem(pem));
    key.m_kind = TRY(spki_kind(key.m_spki));
    return key;
}

Result<PublicKey> PublicKey::load(const std::string& path)
{
    std::string text = TRY(read_text_file(path, MAX_KEY_FILE_SIZE));
    return TRY_PREFIX(parse_pem(text), "%s", path.c_str());
}

std::string PublicKey::pem() const
{
    SecretBytes text = proto::pem_encode(m_spki, "PUBLIC KEY");
    return std::string(text.expose().begin(), text.expose().end());
}

std::string PublicKey::hint() const
{
    return to_hex(crypto::Sha256::of(m_spki));
}

Result<void> PublicKey::verify(ByteView message, ByteView signature) const
{
    bool good = false;
    if (m_kind == KeyKind::Ed25519) {
        proto::Ed25519PublicKey key{};
        proto::Ed25519Signature sig{};
        if (m_spki.size() == ED25519_SPKI_SIZE && signature.size() == sig.size()) {
            std::copy(m_spki.end() - key.size(), m_spki.end(), key.begin());
            std::copy(signature.begin(), signature.end(), sig.begin());
            good = proto::ed25519_verify(key, message, sig);
        }
    } else if (!signature.empty() && signature.size() <= MAX_ECDSA_DER_SIZE) {
        PkContext ctx;
        auto digest = crypto::Sha256::of(message);
        // ecdsa.c: mbedtls_ecdsa_read_signature refuses trailing bytes after the SEQUENCE (and does
        // pointer arithmetic on a null pointer for an empty signature, hence the check above).
        good = mbedtls_pk_parse_public_key(&ctx.pk, m_spki.data(), m_spki.size()) == 0 &&
               mbedtls_pk_verify(&ctx.pk, MBEDTLS_MD_SHA256, digest.data(), digest.size(), signature.data(),
                                 signature.size()) == 0;
    }
    if (!good)
        return Error::make(Errc::Crypto, "signature does not verify with the release key %s", hint().c_str());
    return {};
}

// --- SigningKey --------------------------------------------------------------------------------

struct SigningKey::State {
    KeyKind kind{KeyKind::EcdsaP256};
    PkContext p256;  // zeroised by mbedtls_pk_free (ecp.c: mbedtls_ecp_keypair_free)
    std::optional<proto::Ed25519KeyPair> ed25519;
    std::mutex mutex;  // ecdsa.c writes a comb table into the group: one signer at a time
};

SigningKey::SigningKey() : m_state(std::make_unique<State>()) {}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

namespace {

// The public half of a P-256 key in `pk`, after checking that the point the file carried (if any)
// is d·G: a key file whose halves disagree would sign with one key and name another.
Result<Bytes> p256_public(mbedtls_pk_context& pk)
{
    mbedtls_ecp_keypair* kp = mbedtls_pk_ec(pk);
    if (mbedtls_ecp_keypair_get_group_id(kp) != MBEDTLS_ECP_DP_SECP256R1)
        return Error::make(Errc::Unsupported, "release private key: an EC key on another curve, expected P-256");
    mbedtls_ecp_group grp;
    mbedtls_mpi d;
    mbedtls_ecp_point q, derived;
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
    mbedtls_ecp_point_init(&q);
    mbedtls_ecp_point_init(&derived);
    int rc = mbedtls_ecp_export(kp, &grp, &d, &q);
    if (rc == 0)
        rc = mbedtls_ecp_mul(&grp, &derived, &d, &grp.G, random_bytes, nullptr);
    bool match = rc == 0 && mbedtls_ecp_point_cmp(&q, &derived) == 0;
    mbedtls_ecp_point_free(&derived);
    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&d);  // zeroises
    mbedtls_ecp_group_free(&grp);
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "release private key");
    if (!match)
        return Error::make(Errc::Format, "release private key: the public key in the file is not the private "
                                         "key's, expected the key pair's own public point");
    uint8_t buf[128];
    int n = mbedtls_pk_write_pubkey_der(&pk, buf, sizeof buf);  // at the end of buf
    if (n < 0)
        return mbedtls_failure(Errc::Crypto, n, "release public key");
    return Bytes(buf + sizeof buf - n, buf + sizeof buf);
}

// A PublicKey through its one parser, so a signing key's public half passes the same checks.
Result<PublicKey> public_key_of(ByteView spki)
{
    SecretBytes pem = proto::pem_encode(spki, "PUBLIC KEY");
    return PublicKey::parse_pem({reinterpret_cast<const char*>(pem.expose().data()), pem.size()});
}

}  // namespace

Result<SigningKey> SigningKey::generate(KeyKind kind)
{
    SigningKey key;
    key.m_state->kind = kind;
    if (kind == KeyKind::Ed25519) {
        key.m_state->ed25519 = proto::Ed25519KeyPair::generate();
        key.m_public = TRY(PublicKey::parse_pem(proto::ed25519_public_pem(key.m_state->ed25519->public_key())));
        return key;
    }
    mbedtls_pk_context& pk = key.m_state->p256.pk;
    int rc = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (rc == 0)
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), random_bytes, nullptr);
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "P-256 key generation");
    key.m_public = TRY(public_key_of(TRY(p256_public(pk))));
    return key;
}

Result<SigningKey> SigningKey::parse_pem(std::string_view pem)
{
    SigningKey key;
    bool sec1 = pem.find("-----BEGIN EC PRIVATE KEY-----") != std::string_view::npos;
    SecretBytes der = TRY(proto::pem_decode(pem, sec1 ? "EC PRIVATE KEY" : "PRIVATE KEY"));
    key.m_state->kind = sec1 ? KeyKind::EcdsaP256 : TRY(pkcs8_kind(der.expose()));
    if (key.m_state->kind == KeyKind::Ed25519) {
        key.m_state->ed25519 = TRY(proto::parse_ed25519_private_pem(pem));
        key.m_public = TRY(PublicKey::parse_pem(proto::ed25519_public_pem(key.m_state->ed25519->public_key())));
        return key;
    }
    // pkparse.c: mbedtls_pk_parse_key reads PKCS#8 and SEC1 DER, checks d in [1, n-1], and
    // derives the public point when the file has none.
    mbedtls_pk_context& pk = key.m_state->p256.pk;
    int rc = mbedtls_pk_parse_key(&pk, der.expose().data(), der.size(), nullptr, 0, random_bytes, nullptr);
    if (rc != 0)
        return mbedtls_failure(Errc::Format, rc, "release private key");
    if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY)
        return Error::make(Errc::Unsupported, "release private key: not an EC key, expected ECDSA P-256 or Ed25519");
    key.m_public = TRY(public_key_of(TRY(p256_public(pk))));
    return key;
}

Result<SigningKey> SigningKey::load(const std::string& path)
{
    SecretBytes text = TRY(read_secret_file(path, MAX_KEY_FILE_SIZE));
    ByteView bytes = text.expose();
    return TRY_PREFIX(parse_pem({reinterpret_cast<const char*>(bytes.data()), bytes.size()}), "%s", path.c_str());
}

SecretBytes SigningKey::private_pem() const
{
    if (m_state->kind == KeyKind::Ed25519)
        return proto::ed25519_private_pem(*m_state->ed25519);
    std::lock_guard lock(m_state->mutex);
    const mbedtls_ecp_keypair* kp = mbedtls_pk_ec(m_state->p256.pk);
    SecretBytes der(P256_PKCS8_SIZE);
    uint8_t* out = der.expose().data();
    size_t at = 0;
    std::memcpy(out, P256_PKCS8_HEAD, sizeof P256_PKCS8_HEAD);
    at += sizeof P256_PKCS8_HEAD;
    size_t length = 0;
    int rc = mbedtls_ecp_write_key_ext(kp, &length, out + at, P256_SCALAR_SIZE);
    at += P256_SCALAR_SIZE;
    std::memcpy(out + at, P256_PKCS8_POINT, sizeof P256_PKCS8_POINT);
    at += sizeof P256_PKCS8_POINT;
    size_t point_length = 0;
    if (rc == 0)
        rc = mbedtls_ecp_write_public_key(kp, MBEDTLS_ECP_PF_UNCOMPRESSED, &point_length, out + at, P256_POINT_SIZE);
    // Both lengths are fixed for P-256 (the only curve a SigningKey holds): a failure is a bug.
    if (rc != 0 || length != P256_SCALAR_SIZE || point_length != P256_POINT_SIZE)
        abort();
    return proto::pem_encode(der.expose(), "PRIVATE KEY");
}

Result<Bytes> SigningKey::sign(ByteView message) const
{
    if (m_state->kind == KeyKind::Ed25519) {
        proto::Ed25519Signature sig = m_state->ed25519->sign(message);
        return Bytes(sig.begin(), sig.end());
    }
    auto digest = crypto::Sha256::of(message);
    uint8_t sig[MBEDTLS_ECDSA_MAX_SIG_LEN(256)];
    size_t length = 0;
    std::lock_guard lock(m_state->mutex);
    // The random source only blinds the scalar multiplication; the nonce is RFC 6979's.
    int rc = mbedtls_ecdsa_write_signature(mbedtls_pk_ec(m_state->p256.pk), MBEDTLS_MD_SHA256, digest.data(),
                                           digest.size(), sig, sizeof sig, &length, random_bytes, nullptr);
    if (rc != 0)
        return mbedtls_failure(Errc::Crypto, rc, "ECDSA P-256 signature");
    return Bytes(sig, sig + length);
}

}  // namespace cvm::release
