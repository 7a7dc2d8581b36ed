// The generic core of lib/kbs's JWE (internal to lib/kbs and its tests): ECDH-ES with AES key
// wrap and AES-GCM (RFC 7518 §4.6 and §5.3) over a flattened JWE JSON serialisation (RFC 7516
// §7.2.2), with the curve and both key sizes as parameters, so that the tests can run the
// published vectors (RFC 7520 §5.4 is P-384, ECDH-ES+A128KW, A128GCM). TeeKey::decrypt
// (kbs/tee_key.h) calls it with TEE_PROFILE only; nothing else in the product names a profile.
//
// The member rules are the strict ones tee_key.h states, whatever the profile: exactly protected,
// encrypted_key, iv, ciphertext, tag (base64url without padding); a protected header of exactly
// alg, enc and epk (plus `kid`, ignored, when the profile says so); an epk of exactly kty, crv, x,
// y with full-size coordinates of a point on the curve. ECDH, AES key wrap and AES-GCM are
// mbedTLS's; the Concat KDF is concat_kdf_sha256 (tee_key.h), the one primitive written here.
//
// Trustee's encryptor, which this mirrors member for member, is kbs/src/jwe/mod.rs
// (ecdh_es_a256kw_p256) at confidential-containers/trustee 78962cd; guest-components' decryptor
// is attestation-agent/kbs_protocol/src/keypair.rs (TeeKeyPair::decrypt_response) and
// attestation-agent/deps/crypto/src/rust/ec.rs (EcKeyPair::unwrap_key) at 8246e5e.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"
#include "crypto/mbedtls_util.h"

namespace cvm::kbs::jwe {

enum class Curve : uint8_t { P256, P384, P521 };

// Whether a protected header may carry `kid` (RFC 7515 §4.1.4, a hint only; RFC 7520's examples
// have one, Trustee's replies do not).
enum class HeaderKid : uint8_t { Refused, Ignored };

struct Profile {
    Curve curve;
    size_t kek_size;  // bytes of the AES key-wrap key: 16, 24 or 32 (alg ECDH-ES+A128KW ... A256KW)
    size_t cek_size;  // bytes of the AES-GCM key: 16, 24 or 32 (enc A128GCM ... A256GCM)
    HeaderKid kid;
};

// The only profile TeeKey accepts: P-256, ECDH-ES+A256KW, A256GCM, no kid.
inline constexpr Profile TEE_PROFILE{Curve::P256, 32, 32, HeaderKid::Refused};

inline constexpr size_t GCM_IV_SIZE = 12;   // RFC 7518 §5.3: "Use of an IV of size 96 bits is REQUIRED"
inline constexpr size_t GCM_TAG_SIZE = 16;  // RFC 7518 §5.3: "The requested size of the Authentication Tag
                                            // output MUST be 128 bits"
inline constexpr size_t KW_BLOCK_SIZE = 8;  // RFC 3394 §2: the integrity block A

// "P-256", "P-384", "P-521" (RFC 7518 §6.2.1.1) and the coordinate size in bytes.
const char* curve_name(Curve curve);
size_t coordinate_size(Curve curve);
// "ECDH-ES+A256KW" and "A256GCM" for TEE_PROFILE (RFC 7518 §4.1 and §5.1).
std::string alg_name(const Profile& profile);
std::string enc_name(const Profile& profile);

// An EC private key with its public coordinates; the scalar lives in SecretBytes and is loaded
// into mbedTLS only for the length of one operation (mbedtls_mpi_free zeroises it after).
class EcKey {
public:
    static Result<EcKey> generate(Curve curve);
    // From the private scalar `d` (big-endian, coordinate_size bytes); for the published vectors.
    static Result<EcKey> from_private(Curve curve, ByteView d);

    Curve curve() const { return m_curve; }
    ByteView x() const { return m_x; }
    ByteView y() const { return m_y; }

    // Z of RFC 7518 §4.6.2: the x-coordinate of d·P (coordinate_size bytes) for the peer's point
    // P = (x, y). Errc::Format naming `what` when the coordinates are not full-size or P is not a
    // point on the curve (mbedtls_ecp_check_pubkey).
    Result<SecretBytes> agree(ByteView peer_x, ByteView peer_y, std::string_view what) const;

private:
    EcKey(Curve curve, SecretBytes d, Bytes x, Bytes y);
    Curve m_curve;
    SecretBytes m_d;
    Bytes m_x;
    Bytes m_y;
};

// RFC 3394 §2.2.2 unwrap with the AES key `kek` (16, 24 or 32 bytes) through mbedtls_nist_kw.
// Errc::Format naming `what` for a length that is not a multiple of 8 of at least 24 bytes;
// Errc::Crypto when the integrity check fails (the wrong key).
Result<SecretBytes> aes_key_unwrap(ByteView kek, ByteView wrapped, std::string_view what);
// RFC 3394 §2.2.1 wrap (for encrypt_flattened and the tests).
Result<Bytes> aes_key_wrap(ByteView kek, ByteView key, std::string_view what);

// Decrypts a flattened JWE made for `key` under `profile` (whose curve must be the key's:
// Errc::Config otherwise). Errors as in tee_key.h: Errc::Format or Errc::Unsupported naming the
// member ("jwe.protected.epk.crv: found \"P-384\", expected \"P-256\""), Errc::Crypto for an
// unwrap or tag failure. The input is bounded by MAX_JWE_SIZE (tee_key.h) before parsing.
Result<SecretBytes> decrypt_flattened(std::string_view flattened_jwe, const EcKey& key, const Profile& profile);

// A flattened JWE of `plaintext` to the public key (x, y) under `profile`, shaped as Trustee's
// ecdh_es_a256kw_p256 makes it: a fresh ephemeral key, a random CEK and IV, the protected header
// {"alg","enc","epk":{"crv","kty","x","y"}}, no aad. For the C++ tests only: lib/kbs's, and
// lib/client's and the agent's through their scripted KBS (tests/unit/client/kbs_script.cc); the
// fake KBS is Python and has its own encryptor (tests/fakes/fake_kbs/jose.py). Errc::Format when
// (x, y) is not a point on the curve.
Result<std::string> encrypt_flattened(ByteView plaintext, ByteView x, ByteView y, const Profile& profile);

namespace detail {
using crypto::mbedtls_failure;
using crypto::random_bytes;
// `text` as an error message may show it: at most 40 printable ASCII characters.
std::string shown(std::string_view text);
}  // namespace detail

}  // namespace cvm::kbs::jwe

struct yyjson_mut_doc;
struct yyjson_mut_val;

namespace cvm::kbs::detail {

// What TeeKey::jwk and rcar_report_data build, from given base64url coordinates instead of a
// TeeKey, so that the tests can compare fixed coordinates with independently computed bytes.
yyjson_mut_val* p256_jwk(yyjson_mut_doc* doc, std::string_view x, std::string_view y);
// The RFC 8785 text whose SHA-384 rcar_report_data takes. Errc::Format when `nonce` or
// `additional_evidence` is not valid UTF-8.
Result<std::string> rcar_runtime_data(std::string_view nonce, std::string_view x, std::string_view y,
                                      std::string_view additional_evidence);

}  // namespace cvm::kbs::detail
