// Certificates with keys AMD never uses, for the tests of the key-shape rules and of the cost of
// hostile chains (tests/unit/verify, tests/starvation).
//
// They are made by splicing another SubjectPublicKeyInfo or another signature into a real
// certificate; the TBSCertificate and Certificate SEQUENCEs are re-encoded around the change.
// The spliced signatures do not verify: what a hostile chain costs is verifying *under* its key,
// and the attacker never has AMD's keys anyway.
#pragma once

#include <cstddef>

#include "base/bytes.h"

namespace cvm::test {

// An RSA SubjectPublicKeyInfo (rsaEncryption, RFC 8017 A.1.1) with a pseudo-random odd modulus of
// exactly `modulus_bits` bits and the exponent `exponent` (big-endian, below the modulus).
Bytes rsa_spki(size_t modulus_bits, ByteView exponent);

// An odd exponent of exactly `bits` bits (bits >= 2); 65537 is {0x01, 0x00, 0x01}.
Bytes odd_exponent(size_t bits);

// `cert_der` with its subjectPublicKeyInfo replaced by `spki`.
Bytes with_public_key(ByteView cert_der, ByteView spki);

// `cert_der` with its signatureValue replaced by `size` pseudo-random bytes (the first one below
// 0x80, so the value is below any modulus of size * 8 bits with the top bit set).
Bytes with_signature_size(ByteView cert_der, size_t size);

}  // namespace cvm::test
