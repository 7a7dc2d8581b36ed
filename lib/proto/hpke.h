// HPKE (RFC 9180), base mode, single-shot, one suite: DHKEM(X25519, HKDF-SHA256) (KEM 0x0020),
// HKDF-SHA256 (KDF 0x0001), ChaCha20-Poly1305 (AEAD 0x0003). The broker seals each cvmkb/1 answer
// to the agent's X25519 key with one hpke_seal(); the agent opens it with hpke_open()
// (DESIGN.md §4). There is no multi-message context, no export interface and no PSK/Auth mode:
// the protocol uses none of them, and every mode we do not have is one we cannot get wrong.
//
// Every intermediate secret (DH output, shared secret, key schedule secrets, AEAD key and nonce,
// ephemeral private key) lives in Secret<N> or is wiped before returning, on success and failure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"

namespace cvm::proto {

inline constexpr size_t X25519_KEY_SIZE = 32;  // RFC 9180 §7.1: Nsk = Npk = Nenc = 32
inline constexpr size_t HPKE_TAG_SIZE = 16;    // RFC 9180 §7.3: Nt = 16 for ChaCha20Poly1305

using X25519PublicKey = std::array<uint8_t, X25519_KEY_SIZE>;

// An X25519 key pair (RFC 7748). Move-only; the private key lives in a Secret and is wiped when
// the pair is destroyed or moved from.
class X25519KeyPair {
public:
    // A fresh key pair from the system CSPRNG (randombytes_buf). The 32 random bytes are the
    // private key as RFC 7748 §5 encodes it; X25519 clamps them on every use.
    static X25519KeyPair generate();

    // The pair for a given private key (any 32 bytes: X25519 clamps them). Cannot fail.
    static X25519KeyPair from_private(Secret<X25519_KEY_SIZE> private_key);

    const X25519PublicKey& public_key() const { return m_public; }
    const Secret<X25519_KEY_SIZE>& private_key() const { return m_private; }

private:
    X25519KeyPair(Secret<X25519_KEY_SIZE> private_key, const X25519PublicKey& public_key)
            : m_private(std::move(private_key)), m_public(public_key)
    {
    }

    Secret<X25519_KEY_SIZE> m_private;
    X25519PublicKey m_public{};
};

// The output of one single-shot seal: the encapsulated key (the ephemeral public key) and the
// AEAD ciphertext, which is the plaintext's length plus the 16-byte tag.
struct HpkeSealed {
    X25519PublicKey enc{};
    Bytes ct;
};

// SealBase (RFC 9180 §6.1) of `plaintext` to `recipient` under a fresh ephemeral key.
// Errc::Crypto when `recipient` is a low-order point (the X25519 result is all zero, §7.1.4).
Result<HpkeSealed> hpke_seal(const X25519PublicKey& recipient, ByteView info, ByteView aad, ByteView plaintext);

// The same with a caller-chosen ephemeral key. FOR THE RFC 9180 TEST VECTORS ONLY: reusing an
// ephemeral key across messages breaks HPKE's security; production code calls hpke_seal().
Result<HpkeSealed> hpke_seal_with_ephemeral(const X25519PublicKey& recipient, const X25519KeyPair& ephemeral,
                                            ByteView info, ByteView aad, ByteView plaintext);

// OpenBase (RFC 9180 §6.1). Returns the plaintext in wiping storage (it carries secrets).
// Errc::Format when `enc` is not 32 bytes or `ct` is shorter than the tag; Errc::Crypto when
// `enc` is a low-order point, or when the tag does not verify, which is what a wrong recipient
// key, enc, info, aad or any changed ciphertext byte all look like.
Result<SecretBytes> hpke_open(const X25519KeyPair& recipient, ByteView enc, ByteView info, ByteView aad, ByteView ct);

// --- Internals, exposed for the RFC 9180 Appendix A known-answer tests only ---------------------
namespace detail {

inline constexpr size_t HPKE_KEY_SIZE = 32;    // Nk
inline constexpr size_t HPKE_NONCE_SIZE = 12;  // Nn

// Encap (RFC 9180 §4.1) with a given ephemeral key: the KEM shared secret.
Result<Secret<32>> dhkem_encap(const X25519KeyPair& ephemeral, const X25519PublicKey& recipient);

// Decap (RFC 9180 §4.1): the KEM shared secret for `enc`.
Result<Secret<32>> dhkem_decap(const X25519KeyPair& recipient, const X25519PublicKey& enc);

struct KeySchedule {
    Secret<HPKE_KEY_SIZE> key;
    Secret<HPKE_NONCE_SIZE> base_nonce;
};

// KeySchedule (RFC 9180 §5.1) for mode_base with the default (empty) psk and psk_id.
KeySchedule key_schedule_base(const Secret<32>& shared_secret, ByteView info);

}  // namespace detail

}  // namespace cvm::proto
