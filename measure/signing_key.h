// SigningKey: an ECDSA P-384 private key in AMD's formats, for the SNP ID block.
//
// AMD SEV-SNP Firmware ABI (publication 56860), "ECDSA Public Key Format" and "ECDSA Signature
// Format", little-endian:
//
//   public key (0x404):  0x000 u32 CURVE = 2 (P-384)   0x004 QX[72]   0x04C QY[72]   0x094 zero
//   signature  (0x200):  0x000 R[72]   0x048 S[72]   0x090 zero
//
// Coordinates and R/S are little-endian integers zero-extended to 72 bytes. The key digest the
// attestation report carries (ID_KEY_DIGEST, AUTHOR_KEY_DIGEST) is SHA-384 of the whole 0x404
// bytes. Signatures are ECDSA P-384 with SHA-384, deterministic (RFC 6979): the same key and
// message always give the same bytes, so ID blocks are reproducible.
#pragma once

#include <array>
#include <memory>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"
#include "crypto/digest.h"

namespace cvm::measure {

inline constexpr size_t AMD_PUBLIC_KEY_SIZE = 0x404;
inline constexpr size_t AMD_SIGNATURE_SIZE = 0x200;
inline constexpr size_t AMD_ECC_COORD_SIZE = 72;
inline constexpr uint32_t AMD_CURVE_P384 = 2;

using AmdPublicKey = std::array<uint8_t, AMD_PUBLIC_KEY_SIZE>;
using AmdSignature = std::array<uint8_t, AMD_SIGNATURE_SIZE>;

class SigningKey {
public:
    // Parses a PEM private key ("EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY", unencrypted) that must
    // be on P-384. Errc::Format or Errc::Unsupported saying why not.
    static Result<SigningKey> from_pem(const SecretBytes& pem);

    SigningKey(SigningKey&&) noexcept;
    SigningKey& operator=(SigningKey&&) noexcept;
    ~SigningKey();

    const AmdPublicKey& public_key() const { return m_public; }
    // SHA-384 of public_key(): what the report's key digest fields hold.
    crypto::Sha384Digest key_digest() const { return crypto::Sha384::of(m_public); }

    // ECDSA P-384/SHA-384 signature of `message`, checked against the public key before it is
    // returned. Errc::Crypto on failure.
    Result<AmdSignature> sign(ByteView message) const;

private:
    struct State;
    SigningKey();
    std::unique_ptr<State> m_state;
    AmdPublicKey m_public{};
};

}  // namespace cvm::measure
