// Release signing keys: ECDSA P-256 with SHA-256 (mbedTLS; signatures DER-encoded, as Sigstore
// and DSSE carry them; RFC 6979 deterministic, so a signed release is reproducible) or Ed25519
// (libsodium, pure). Keys are PKCS#8 / SubjectPublicKeyInfo PEM, which `openssl` and the
// sigstore JavaScript libraries read; `cvm release keygen` writes them (private key 0600).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"

namespace cvm::release {

enum class KeyKind : uint8_t { EcdsaP256, Ed25519 };

class PublicKey {
public:
    // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----"). Errc::Format for anything else,
    // Errc::Unsupported for another algorithm or curve.
    static Result<PublicKey> parse_pem(std::string_view pem);
    static Result<PublicKey> load(const std::string& path);

    KeyKind kind() const { return m_kind; }
    const Bytes& spki_der() const { return m_spki; }
    std::string pem() const;
    // The bundle's verificationMaterial.publicKey.hint: lower-case hex SHA-256 of the SPKI DER.
    std::string hint() const;
    // Errc::Crypto "signature does not verify with the release key <hint>" on any mismatch.
    Result<void> verify(ByteView message, ByteView signature) const;

private:
    KeyKind m_kind{KeyKind::EcdsaP256};
    Bytes m_spki;
};

class SigningKey {
public:
    static Result<SigningKey> generate(KeyKind kind);
    // PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"); also SEC1 "EC PRIVATE KEY" for P-256.
    static Result<SigningKey> parse_pem(std::string_view pem);
    static Result<SigningKey> load(const std::string& path);

    SigningKey(SigningKey&&) noexcept;
    SigningKey& operator=(SigningKey&&) noexcept;
    ~SigningKey();

    const PublicKey& public_key() const { return m_public; }
    SecretBytes private_pem() const;
    Result<Bytes> sign(ByteView message) const;

    struct State;

private:
    SigningKey();
    std::unique_ptr<State> m_state;
    PublicKey m_public;
};

}  // namespace cvm::release
