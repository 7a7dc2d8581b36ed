// What the RA-TLS library's files share: the two key types a certificate may carry, their
// SubjectPublicKeyInfo rules, the OIDs of the profile, and mbedTLS plumbing. Internal to lib/ratls.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"
#include "base/result.h"
#include "crypto/mbedtls_util.h"

namespace cvm::ratls::detail {

// DER content octets of the OBJECT IDENTIFIERs the profile names (X.690 §8.19).
inline constexpr uint8_t OID_EC_PUBLIC_KEY[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01};     // 1.2.840.10045.2.1
inline constexpr uint8_t OID_PRIME256V1[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};  // 1.2.840.10045.3.1.7
inline constexpr uint8_t OID_SECP384R1[] = {0x2B, 0x81, 0x04, 0x00, 0x22};                     // 1.3.132.0.34
inline constexpr uint8_t OID_ED25519[] = {0x2B, 0x65, 0x70};                                   // 1.3.101.112
inline constexpr uint8_t OID_RSA_ENCRYPTION[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01};
inline constexpr uint8_t OID_ECDSA_WITH_SHA256[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02};  // RFC 5758 §3.2
inline constexpr uint8_t OID_BASIC_CONSTRAINTS[] = {0x55, 0x1D, 0x13};                                // 2.5.29.19
inline constexpr uint8_t OID_KEY_USAGE[] = {0x55, 0x1D, 0x0F};                                        // 2.5.29.15
inline constexpr uint8_t OID_SUBJECT_ALT_NAME[] = {0x55, 0x1D, 0x11};                                 // 2.5.29.17
inline constexpr uint8_t OID_SUBJECT_KEY_ID[] = {0x55, 0x1D, 0x0E};                                   // 2.5.29.14
inline constexpr uint8_t OID_AUTHORITY_KEY_ID[] = {0x55, 0x1D, 0x23};                                 // 2.5.29.35
inline constexpr uint8_t OID_EXT_KEY_USAGE[] = {0x55, 0x1D, 0x25};                                    // 2.5.29.37
inline constexpr uint8_t OID_COMMON_NAME[] = {0x55, 0x04, 0x03};                                      // 2.5.4.3
inline constexpr uint8_t OID_PE_CMW[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x23};  // 1.3.6.1.5.5.7.1.35

inline bool same(ByteView a, ByteView b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

enum class KeyType : uint8_t { P256, Ed25519 };

inline constexpr size_t P256_POINT_SIZE = 65;   // 0x04 || X || Y (SEC 1 §2.3.3, uncompressed)
inline constexpr size_t ED25519_KEY_SIZE = 32;  // RFC 8410 §4
inline constexpr size_t MAX_SPKI_SIZE = 128;    // a P-256 SPKI is 91 bytes, an Ed25519 one 44

// The type of a DER SubjectPublicKeyInfo that is exactly a P-256 key (id-ecPublicKey with the
// namedCurve prime256v1, an uncompressed point on the curve: RFC 5480 §2) or an Ed25519 key
// (id-Ed25519 without parameters, a valid point: RFC 8410 §3, §4), with nothing after it.
// Errc::Format naming `what`, the algorithm found (RSA, P-384 and other curves by name) and
// what is expected.
Result<KeyType> classify_spki(ByteView spki_der, const char* what);

using crypto::mbedtls_failure;
using crypto::random_bytes;

}  // namespace cvm::ratls::detail
