// SubjectPublicKeyInfo rules (RFC 5280 §4.1.2.7) for the two key types an RA-TLS certificate may
// carry: P-256 (RFC 5480) and Ed25519 (RFC 8410).
#include <mbedtls/ecp.h>
#include <sodium.h>

#include <cstdio>

#include "base/der.h"
#include "proto/pem.h"
#include "ratls/internal.h"
#include "ratls/ratls.h"

namespace cvm::ratls {
namespace detail {
namespace {

constexpr uint8_t BIT_STRING = 0x03;

const char* algorithm_name(ByteView oid, ByteView parameters)
{
    if (same(oid, OID_RSA_ENCRYPTION))
        return "an RSA key";
    if (same(oid, OID_EC_PUBLIC_KEY)) {
        if (same(parameters, OID_SECP384R1))
            return "a P-384 key";
        return "an EC key on another curve";
    }
    return "a key of an unknown algorithm";
}

// The point must be on P-256: mbedtls_ecp_check_pubkey (ecp.c: ecp_check_pubkey_sw) checks the
// coordinates are below p and that y^2 = x^3 - 3x + b (SEC 1 §3.2.2.1).
Result<void> check_p256_point(ByteView point, const char* what)
{
    if (point.size() != P256_POINT_SIZE || point[0] != 0x04)
        return Error::make(Errc::Format,
                           "%s: P-256 point is %zu bytes starting 0x%02x, expected %zu bytes starting 0x04 "
                           "(uncompressed)",
                           what, point.size(), point.empty() ? 0 : point[0], P256_POINT_SIZE);
    mbedtls_ecp_group group;
    mbedtls_ecp_point q;
    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&q);
    int rc = mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1);
    if (rc == 0)
        rc = mbedtls_ecp_point_read_binary(&group, &q, point.data(), point.size());
    if (rc == 0)
        rc = mbedtls_ecp_check_pubkey(&group, &q);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&group);
    if (rc != 0)
        return Error::make(Errc::Format, "%s: the P-256 point is not on the curve, expected a valid public key", what);
    return {};
}

}  // namespace

Result<KeyType> classify_spki(ByteView spki_der, const char* what)
{
    if (spki_der.size() > MAX_SPKI_SIZE)
        return Error::make(Errc::Format,
                           "%s: SubjectPublicKeyInfo of %zu bytes, expected at most %zu (P-256 or Ed25519)", what,
                           spki_der.size(), MAX_SPKI_SIZE);
    Reader outer(spki_der, what);
    ByteView spki = TRY(der::read(outer, der::SEQUENCE, "SubjectPublicKeyInfo"));
    TRY(outer.finish());
    Reader r(spki, what);
    ByteView algorithm = TRY(der::read(r, der::SEQUENCE, "SubjectPublicKeyInfo.algorithm"));
    ByteView key = TRY(der::read(r, BIT_STRING, "SubjectPublicKeyInfo.subjectPublicKey"));
    TRY(r.finish());
    Reader a(algorithm, what);
    ByteView oid = TRY(der::read(a, der::OID, "AlgorithmIdentifier.algorithm"));
    ByteView parameters;
    bool has_parameters = !a.at_end();
    if (has_parameters) {
        der::Element p = TRY(der::read_any(a, "AlgorithmIdentifier.parameters"));
        parameters = p.tag == der::OID ? p.content : ByteView{};
    }
    TRY(a.finish());
    if (key.empty() || key[0] != 0)
        return Error::make(Errc::Format, "%s: subjectPublicKey has %d unused bits, expected 0", what,
                           key.empty() ? -1 : key[0]);
    ByteView value = key.subspan(1);

    if (same(oid, OID_EC_PUBLIC_KEY) && same(parameters, OID_PRIME256V1)) {
        TRY(check_p256_point(value, what));
        return KeyType::P256;
    }
    if (same(oid, OID_ED25519)) {
        // RFC 8410 §3: "For all of the OIDs, the parameters MUST be absent."
        if (has_parameters)
            return Error::make(Errc::Format,
                               "%s: Ed25519 AlgorithmIdentifier has parameters, expected none (RFC 8410 §3)", what);
        if (value.size() != ED25519_KEY_SIZE)
            return Error::make(Errc::Format, "%s: Ed25519 key is %zu bytes, expected %zu", what, value.size(),
                               ED25519_KEY_SIZE);
        // A point that decodes, in the main subgroup, not of small order (libsodium's check).
        if (crypto_core_ed25519_is_valid_point(value.data()) != 1)
            return Error::make(Errc::Format, "%s: the Ed25519 key is not a valid point, expected a public key", what);
        return KeyType::Ed25519;
    }
    return Error::make(Errc::Format, "%s: %s, expected P-256 (id-ecPublicKey, prime256v1) or Ed25519", what,
                       algorithm_name(oid, parameters));
}

}  // namespace detail

Result<Bytes> subject_spki_from_pem(std::string_view pem)
{
    // Name what was sent instead of a public key before the PEM decoder's generic complaint.
    if (pem.find("PRIVATE KEY-----") != std::string_view::npos)
        return Error::make(Errc::Format, "public key: found a private key, expected a PEM \"PUBLIC KEY\" "
                                         "(send only the public half; the private key never leaves its owner)");
    size_t first = pem.find("-----BEGIN ");
    if (first != std::string_view::npos && pem.find("-----BEGIN ", first + 1) != std::string_view::npos)
        return Error::make(Errc::Format, "public key: found two PEM blocks, expected exactly one \"PUBLIC KEY\"");
    if (pem.find("-----BEGIN RSA PUBLIC KEY-----") != std::string_view::npos)
        return Error::make(Errc::Format, "public key: found an RSA key (PKCS#1), expected P-256 or Ed25519");
    SecretBytes der = TRY(proto::pem_decode(pem, "PUBLIC KEY"));
    TRY(detail::classify_spki(der.expose(), "public key"));
    return Bytes(der.expose().begin(), der.expose().end());
}

}  // namespace cvm::ratls
