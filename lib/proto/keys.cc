#include "proto/keys.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/base64.h"
#include "base/der.h"
#include "proto/pem.h"

namespace cvm::proto {

static_assert(crypto_sign_SEEDBYTES == ED25519_SEED_SIZE && crypto_sign_PUBLICKEYBYTES == ED25519_PUBLIC_KEY_SIZE);
static_assert(crypto_sign_SECRETKEYBYTES == 64 && crypto_sign_BYTES == ED25519_SIGNATURE_SIZE);

namespace {

// RFC 8410 §3: id-X25519 ::= { 1 3 101 110 }, id-Ed25519 ::= { 1 3 101 112 }; DER contents.
constexpr uint8_t OID_X25519[] = {0x2B, 0x65, 0x6E};
constexpr uint8_t OID_ED25519[] = {0x2B, 0x65, 0x70};
constexpr uint8_t BIT_STRING = 0x03;  // X.690 §8.6; base/der.h has no constant for it

// Every Ed25519 key file has the same DER around the key bytes, so writing one is a copy.
// PKCS#8 (RFC 8410 §7): SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 },
//                                  OCTET STRING { OCTET STRING (32 bytes: the seed) } }
constexpr uint8_t PKCS8_PREFIX[] = {0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                    0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
// SubjectPublicKeyInfo (RFC 8410 §4): SEQUENCE { SEQUENCE { OID 1.3.101.112 },
//                                                BIT STRING (0 unused bits, 32 bytes: the key) }
constexpr uint8_t SPKI_PREFIX[] = {0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00};

constexpr const char* PRIVATE_WHAT = "PKCS#8 Ed25519 private key";
constexpr const char* PUBLIC_WHAT = "Ed25519 SubjectPublicKeyInfo";

bool same(ByteView a, ByteView b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// The AlgorithmIdentifier (RFC 5280 §4.1.1.2) of an Ed25519 key: the OID and nothing else.
Result<void> check_algorithm(ByteView algorithm, const char* what)
{
    Reader r(algorithm, what);
    ByteView oid = TRY(der::read(r, der::OID, "algorithm"));
    if (same(oid, OID_X25519))
        return Error::make(Errc::Format, "%s: the key is X25519 (OID 1.3.101.110), expected Ed25519 (1.3.101.112)",
                           what);
    if (!same(oid, OID_ED25519))
        return Error::make(Errc::Format, "%s: the algorithm OID is not Ed25519 (1.3.101.112)", what);
    // RFC 8410 §3: "For all of the OIDs, the parameters MUST be absent."
    if (!r.at_end())
        return Error::make(Errc::Format, "%s: the algorithm has parameters, which RFC 8410 §3 says MUST be absent",
                           what);
    return {};
}

Result<void> check_point(const Ed25519PublicKey& key, const char* what)
{
    // Catches a mistyped or wrong key when it is configured rather than at the first verify.
    if (crypto_core_ed25519_is_valid_point(key.data()) != 1)
        return Error::make(Errc::Format, "%s: not a valid Ed25519 point of prime order (RFC 8032 §5.1.3), refusing",
                           what);
    return {};
}

// OneAsymmetricKey (RFC 5958 §2) as RFC 8410 §7 profiles it for Ed25519.
Result<Ed25519KeyPair> parse_private_der(ByteView der)
{
    Reader outer(der, PRIVATE_WHAT);
    ByteView key_info = TRY(der::read(outer, der::SEQUENCE, "OneAsymmetricKey"));
    TRY(outer.finish());
    Reader r(key_info, PRIVATE_WHAT);
    ByteView version_der = TRY(der::read(r, der::INTEGER, "version"));
    // RFC 5958 §2: Version ::= INTEGER { v1(0), v2(1) }; v2 adds a publicKey. openssl writes v1.
    uint32_t version = TRY(der::read_small_uint(version_der, "version"));
    if (version != 0)
        return Error::make(Errc::Unsupported, "%s: version %u, only 0 (v1, as openssl writes) is supported",
                           PRIVATE_WHAT, version);
    ByteView algorithm = TRY(der::read(r, der::SEQUENCE, "privateKeyAlgorithm"));
    TRY(check_algorithm(algorithm, PRIVATE_WHAT));
    ByteView private_key = TRY(der::read(r, der::OCTET_STRING, "privateKey"));
    if (!r.at_end()) {
        der::Element next = TRY(der::read_any(r, "attributes"));
        if (next.tag == 0xA0 || next.tag == 0x81)  // [0] attributes, [1] publicKey
            return Error::make(Errc::Unsupported, "%s: attributes and an embedded public key are not supported",
                               PRIVATE_WHAT);
        return Error::make(Errc::Format, "%s: unexpected element (tag 0x%02x) after privateKey", PRIVATE_WHAT,
                           next.tag);
    }
    // RFC 8410 §7: CurvePrivateKey ::= OCTET STRING, carried inside the privateKey OCTET STRING.
    Reader inner(private_key, PRIVATE_WHAT);
    ByteView seed = TRY(der::read(inner, der::OCTET_STRING, "CurvePrivateKey"));
    TRY(inner.finish());
    if (seed.size() != ED25519_SEED_SIZE)
        return Error::make(Errc::Format, "%s: CurvePrivateKey is %zu bytes, expected %zu (RFC 8410 §7)", PRIVATE_WHAT,
                           seed.size(), ED25519_SEED_SIZE);
    Secret<ED25519_SEED_SIZE> secret_seed;
    memcpy(secret_seed.expose().data(), seed.data(), seed.size());
    return Ed25519KeyPair::from_seed(secret_seed);
}

}  // namespace

Ed25519KeyPair Ed25519KeyPair::generate()
{
    // sodium_init() seeds the random source and picks implementations; idempotent, thread-safe.
    static const int rc = sodium_init();
    if (rc < 0)
        abort();  // no CSPRNG: nothing safe to do
    Secret<ED25519_SEED_SIZE> seed;
    randombytes_buf(seed.expose().data(), seed.size());
    return from_seed(seed);
}

Ed25519KeyPair Ed25519KeyPair::from_seed(const Secret<ED25519_SEED_SIZE>& seed)
{
    Ed25519KeyPair pair;
    memcpy(pair.m_seed.expose().data(), seed.expose().data(), seed.size());
    crypto_sign_seed_keypair(pair.m_public.data(), pair.m_secret_key.expose().data(), seed.expose().data());
    return pair;
}

Ed25519Signature Ed25519KeyPair::sign(ByteView message) const
{
    Ed25519Signature sig;
    crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), m_secret_key.expose().data());
    return sig;
}

bool ed25519_verify(const Ed25519PublicKey& key, ByteView message, const Ed25519Signature& sig)
{
    return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), key.data()) == 0;
}

Result<Ed25519KeyPair> parse_ed25519_private_pem(std::string_view pem)
{
    SecretBytes der = TRY(pem_decode(pem, "PRIVATE KEY"));
    return parse_private_der(der.expose());
}

SecretBytes ed25519_private_pem(const Ed25519KeyPair& key)
{
    Secret<sizeof PKCS8_PREFIX + ED25519_SEED_SIZE> der;
    memcpy(der.expose().data(), PKCS8_PREFIX, sizeof PKCS8_PREFIX);
    memcpy(der.expose().data() + sizeof PKCS8_PREFIX, key.seed().expose().data(), ED25519_SEED_SIZE);
    return pem_encode(der.expose(), "PRIVATE KEY");
}

std::string ed25519_public_pem(const Ed25519PublicKey& key)
{
    std::array<uint8_t, sizeof SPKI_PREFIX + ED25519_PUBLIC_KEY_SIZE> der;
    memcpy(der.data(), SPKI_PREFIX, sizeof SPKI_PREFIX);
    memcpy(der.data() + sizeof SPKI_PREFIX, key.data(), key.size());
    SecretBytes pem = pem_encode(der, "PUBLIC KEY");
    return {reinterpret_cast<const char*>(pem.expose().data()), pem.size()};
}

Result<Ed25519PublicKey> parse_ed25519_public_pem(std::string_view pem)
{
    SecretBytes der = TRY(pem_decode(pem, "PUBLIC KEY"));
    Reader outer(der.expose(), PUBLIC_WHAT);
    ByteView spki = TRY(der::read(outer, der::SEQUENCE, "SubjectPublicKeyInfo"));
    TRY(outer.finish());
    Reader r(spki, PUBLIC_WHAT);
    ByteView algorithm = TRY(der::read(r, der::SEQUENCE, "algorithm"));
    TRY(check_algorithm(algorithm, PUBLIC_WHAT));
    ByteView bits = TRY(der::read(r, BIT_STRING, "subjectPublicKey"));
    TRY(r.finish());
    // RFC 8410 §4: the key bytes are the BIT STRING's contents, a whole number of octets.
    if (bits.size() != 1 + ED25519_PUBLIC_KEY_SIZE || bits[0] != 0)
        return Error::make(Errc::Format, "%s: subjectPublicKey is not %zu bytes with 0 unused bits (RFC 8410 §4)",
                           PUBLIC_WHAT, ED25519_PUBLIC_KEY_SIZE);
    Ed25519PublicKey key;
    memcpy(key.data(), bits.data() + 1, key.size());
    TRY(check_point(key, PUBLIC_WHAT));
    return key;
}

std::string ed25519_public_b64(const Ed25519PublicKey& key)
{
    return base64_encode(key);
}

Result<Ed25519PublicKey> parse_ed25519_public_b64(std::string_view text)
{
    // 32 bytes are always 44 characters; checking first also keeps empty text away from the decoder.
    constexpr size_t B64_SIZE = (ED25519_PUBLIC_KEY_SIZE + 2) / 3 * 4;
    auto key = text.size() == B64_SIZE ? base64_decode_fixed<ED25519_PUBLIC_KEY_SIZE>(text) : std::nullopt;
    if (!key)
        return Error::make(Errc::Format, "Ed25519 public key: not the base64 (RFC 4648, padded) of %zu bytes",
                           ED25519_PUBLIC_KEY_SIZE);
    TRY(check_point(*key, "Ed25519 public key"));
    return *key;
}

}  // namespace cvm::proto
