// A second JWE encoder for the KBS session's tests, written here from RFC 7516/7518 with mbedTLS's
// primitives (ECDH on P-256, RFC 3394 key wrap, AES-256-GCM) and kbs::concat_kdf_sha256, the way
// Trustee's kbs/src/jwe/mod.rs (ecdh_es_a256kw_p256, trustee 78962cd) shapes its replies: a fresh
// ephemeral key, the protected header {"alg","enc","epk":{"crv","kty","x","y"}}, no aad.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"

namespace cvm::test {

// The flattened JWE of `plaintext` to the P-256 public key whose JWK coordinates are `x`, `y`
// (base64url without padding). Fails the calling test on any mbedTLS error.
std::string jwe_to(std::string_view x, std::string_view y, ByteView plaintext);

}  // namespace cvm::test
