// The agent's TEE key for Trustee's RCAR protocol (docs/kbs.md): an ephemeral P-256 key pair,
// made once per KBS session and wiped with the object, whose public half the KBS encrypts every
// resource to.
//
//   TeeKey key = TRY(TeeKey::generate());
//   ReportData rd = TRY(rcar_report_data(nonce, key));     // REPORT_DATA of the report
//   SecretBytes secret = TRY(key.decrypt(jwe_body));       // a resource reply
//
// The JWK is exactly the members guest-components sends:
// {"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW","x":<b64url 32>,"y":<b64url 32>}.
//
// decrypt() takes a flattened JWE JSON serialisation (RFC 7516 §7.2.2) whose members are exactly
// protected, encrypted_key, iv, ciphertext, tag (base64url without padding; `aad`, `header`,
// `unprotected` refused), whose protected header is exactly {"alg":"ECDH-ES+A256KW",
// "enc":"A256GCM","epk":{"kty":"EC","crv":"P-256","x","y"}} (any other alg, enc, curve or member
// refused by name), with the epk a valid point on P-256. Then Z = ECDH, KEK = Concat KDF (SHA-256,
// RFC 7518 §4.6.2, AlgorithmID "ECDH-ES+A256KW", empty PartyUInfo/PartyVInfo, 256 bits), CEK =
// AES key unwrap (RFC 3394) of the 40-byte encrypted_key, and AES-256-GCM with a 12-byte iv, the
// 16-byte tag and the ASCII of the received `protected` member as AAD. ECDH, unwrap and GCM are
// mbedTLS's; the Concat KDF is the one function written here. Errors: Errc::Format or
// Errc::Unsupported naming the member for the shape, Errc::Crypto for an unwrap or tag failure
// (which is what a JWE made for another key gives). Z, KEK and CEK are wiped on every path.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"

struct yyjson_mut_doc;
struct yyjson_mut_val;

namespace cvm::kbs {

inline constexpr const char* TEE_KEY_ALG = "ECDH-ES+A256KW";
inline constexpr size_t MAX_JWE_SIZE = 1024 * 1024;  // checked before parsing

class TeeKey {
public:
    static Result<TeeKey> generate();
    TeeKey(TeeKey&&) noexcept;
    TeeKey& operator=(TeeKey&&) noexcept;
    ~TeeKey();

    // base64url (no padding) of the 32-byte affine coordinates.
    const std::string& x() const;
    const std::string& y() const;
    // The public JWK as a new object of `doc` (members in the order above).
    yyjson_mut_val* jwk(yyjson_mut_doc* doc) const;

    Result<SecretBytes> decrypt(std::string_view flattened_jwe) const;

private:
    struct Impl;
    explicit TeeKey(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// SHA-384 of the RFC 8785 form of {"additional-evidence": additional_evidence, "nonce": nonce,
// "tee-pubkey": key.jwk()} followed by 16 zero bytes, as guest-components' RCAR client binds its
// TEE key and the KBS nonce into an SNP report. `nonce` is the server's string, verbatim.
Result<std::array<uint8_t, 64>> rcar_report_data(std::string_view nonce, const TeeKey& key,
                                                 std::string_view additional_evidence = "");

// RFC 7518 §4.6.2 Concat KDF with SHA-256 (exposed for the RFC 7518 Appendix C test):
// AlgorithmID = `algorithm`, PartyUInfo `apu`, PartyVInfo `apv`, SuppPubInfo = key_bits.
// `key_bits` is a multiple of 8, at most 256 * 8.
SecretBytes concat_kdf_sha256(ByteView z, std::string_view algorithm, size_t key_bits, ByteView apu = {},
                              ByteView apv = {});

}  // namespace cvm::kbs
