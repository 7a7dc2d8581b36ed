// The broker's Ed25519 signing key (RFC 8032, pure Ed25519, libsodium) and the text forms of its
// keys: PEM files interoperable with `openssl genpkey -algorithm ed25519` and
// `openssl pkey -pubout`, and the base64 form that the kernel cmdline and configs carry.
//
// The broker signs each cvmkb/1 answer with sign(); the agent checks it with ed25519_verify()
// against the public key from its measured cmdline (DESIGN.md §4).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"

namespace cvm::proto {

inline constexpr size_t ED25519_SEED_SIZE = 32;        // RFC 8032 §5.1.5: the private key
inline constexpr size_t ED25519_PUBLIC_KEY_SIZE = 32;  // RFC 8032 §5.1.5
inline constexpr size_t ED25519_SIGNATURE_SIZE = 64;   // RFC 8032 §5.1.6

using Ed25519PublicKey = std::array<uint8_t, ED25519_PUBLIC_KEY_SIZE>;
using Ed25519Signature = std::array<uint8_t, ED25519_SIGNATURE_SIZE>;

// An Ed25519 key pair. Move-only; the seed (RFC 8032's 32-byte private key) and libsodium's
// 64-byte expanded secret key live in Secrets and are wiped on destruction and move.
class Ed25519KeyPair {
public:
    // A fresh key pair from the system CSPRNG.
    static Ed25519KeyPair generate();

    // The key pair of a 32-byte seed (crypto_sign_seed_keypair). The caller keeps its seed.
    static Ed25519KeyPair from_seed(const Secret<ED25519_SEED_SIZE>& seed);

    const Ed25519PublicKey& public_key() const { return m_public; }

    // The seed, for writing key files (ed25519_private_pem).
    const Secret<ED25519_SEED_SIZE>& seed() const { return m_seed; }

    // Pure Ed25519 (RFC 8032 §5.1.6, no pre-hash, no context) of `message`. Deterministic.
    Ed25519Signature sign(ByteView message) const;

private:
    Ed25519KeyPair() = default;

    Secret<ED25519_SEED_SIZE> m_seed;
    Secret<64> m_secret_key;  // libsodium's form: seed || public key
    Ed25519PublicKey m_public{};
};

// True only when `sig` is a valid pure Ed25519 signature of `message` under `key`. libsodium
// rejects non-canonical S (RFC 8032 §5.1.7) and small-order public keys and R values.
bool ed25519_verify(const Ed25519PublicKey& key, ByteView message, const Ed25519Signature& sig);

// --- PEM key files (RFC 7468 strict textual encoding, lines of 64 base64 characters) ------------
//
// Private: "PRIVATE KEY", PKCS#8 OneAsymmetricKey (RFC 5958) version 0 with algorithm
// id-Ed25519 (OID 1.3.101.112, parameters absent; RFC 8410 §3) and the seed as CurvePrivateKey,
// an OCTET STRING inside the privateKey OCTET STRING (RFC 8410 §7). Exactly what openssl writes.
// Public: "PUBLIC KEY", SubjectPublicKeyInfo (RFC 5280 §4.1) with the same algorithm and the 32-byte
// key as a BIT STRING with no unused bits (RFC 8410 §4).
//
// Parsing is strict DER through base/der.h. Whitespace around the block is allowed, text before
// or after it is not, and lines may end in LF or CRLF. Errc::Format names what is wrong (label,
// base64, DER field, OID, length, trailing bytes); Errc::Unsupported for a well-formed PKCS#8
// version 1 key (with attributes or a public key), which openssl does not write. Public key
// parsers also refuse a key that is not a valid Ed25519 point (Errc::Format).

// The decoded base64 and DER are wiped before returning; the caller wipes `pem`.
Result<Ed25519KeyPair> parse_ed25519_private_pem(std::string_view pem);

// The PEM text of the private key, in wiping storage (it is key material).
SecretBytes ed25519_private_pem(const Ed25519KeyPair& key);

std::string ed25519_public_pem(const Ed25519PublicKey& key);
Result<Ed25519PublicKey> parse_ed25519_public_pem(std::string_view pem);

// --- Cmdline/config form: RFC 4648 base64 with padding of the 32 raw bytes ----------------------
std::string ed25519_public_b64(const Ed25519PublicKey& key);
// Errc::Format for anything but the canonical base64 of 32 bytes that form a valid point.
Result<Ed25519PublicKey> parse_ed25519_public_b64(std::string_view text);

}  // namespace cvm::proto
