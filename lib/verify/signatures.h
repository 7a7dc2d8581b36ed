// The two signature primitives of SEV-SNP attestation, with AMD's algorithms fixed:
//
//   certificates  RSASSA-PSS, SHA-384, MGF1 with SHA-384, salt length 48 (RFC 8017 §8.1), the
//                 only algorithm AMD uses for the ARK, ASK, ASVK, VCEK and VLEK certificates
//                 (../shared/reference/report.md §3.1). Anything else is refused, naming what the
//                 certificate declares; nothing is negotiated from the certificate.
//   report        ECDSA P-384 with SHA-384 over ATTESTATION_REPORT bytes [0x000, 0x2A0)
//                 (SEV-SNP ABI 56860 Table 23, SIGNATURE_ALGO 1).
//
// Every issuer key must have the shape AMD uses before any signature is computed with it: RSA-4096
// with e = 65537 for the ARK, ASK and ASVK, EC P-384 for the VCEK and VLEK. A hostile key (RSA-8192,
// a huge exponent) is refused by its shape, so its cost is that of parsing it.
//
// Thread-safe: each RSA verification parses its own copy of the issuer's public key, because
// mbedTLS RSA verification writes into the key context (it caches its Montgomery constant there).
// The VEK's EC key is parsed once into a ReportKey, which ECDSA verification only reads, so one
// ReportKey serves every thread (the Verifier caches it with the VEK's chain result).
#pragma once

#include <array>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "verify/certificate.h"

namespace cvm::verify {

inline constexpr int AMD_PSS_SALT_LENGTH = 48;
inline constexpr size_t P384_SCALAR_SIZE = 48;
inline constexpr size_t RSA_AMD_KEY_BITS = 4096;
inline constexpr uint64_t RSA_AMD_EXPONENT = 65537;

// "RSASSA-PSS (SHA-384, MGF1-SHA-384, salt 48)", "RSA with SHA-384", "ECDSA with SHA384", or the
// dotted OID when mbedTLS has no name for it: the algorithm `cert` declares for its signature.
std::string signature_algorithm_name(const Certificate& cert);

// Checks that `cert` declares RSASSA-PSS/SHA-384/MGF1-SHA-384/salt 48, that `issuer`'s key is
// RSA-4096 with e = 65537 (check_rsa4096_key), and only then that it made the signature over the
// TBSCertificate. Errc::Chain naming the algorithm or key found and the one expected, or the
// mbedTLS verify error. Does not check names or basic constraints.
Result<void> check_amd_signature(const Certificate& cert, const Certificate& issuer);

// "RSA-4096", "RSA-2048 e=3", "RSA-8192 e of 8191 bits", "EC secp384r1", ...: the subject public
// key as a short human string; an RSA exponent is shown only when it is not 65537.
std::string public_key_name(const Certificate& cert);

// The subject key is RSA with exactly RSA_AMD_KEY_BITS bits and the exponent RSA_AMD_EXPONENT
// (ARK, ASK, ASVK). Errc::Chain naming the key found ("RSA-8192 e of 8191 bits") otherwise.
Result<void> check_rsa4096_key(const Certificate& cert);

// The subject key is EC on NIST P-384 (VCEK, VLEK).
Result<void> check_p384_key(const Certificate& cert);

// The VEK's public key, parsed and checked once: EC P-384 (check_p384_key). Immutable after
// create(), and safe to use from several threads at once (signatures.cc says why).
class ReportKey {
public:
    // Errc::Chain when the key is not P-384 (naming the key found), Errc::Crypto when mbedTLS
    // cannot load it.
    static Result<std::shared_ptr<const ReportKey>> create(const Certificate& vek);

    ~ReportKey();
    ReportKey(const ReportKey&) = delete;
    ReportKey& operator=(const ReportKey&) = delete;

    struct Impl;  // the mbedTLS key context (signatures.cc)
    const Impl& impl() const { return *m_impl; }

private:
    explicit ReportKey(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// ECDSA P-384/SHA-384 of `signed_bytes` under `key`, with r and s big-endian as
// snp::AttestationReport holds them. Errc::Crypto when r or s is zero or not below the group
// order n (refused before any arithmetic), or when the signature does not verify.
Result<void> verify_report_signature(ByteView signed_bytes, const std::array<uint8_t, P384_SCALAR_SIZE>& r,
                                     const std::array<uint8_t, P384_SCALAR_SIZE>& s, const ReportKey& key);

// The same under `vek`'s key, parsed for this one call (ReportKey::create's errors, as Errc::Crypto
// for a key of the wrong shape too, after the r and s range checks).
Result<void> verify_report_signature(ByteView signed_bytes, const std::array<uint8_t, P384_SCALAR_SIZE>& r,
                                     const std::array<uint8_t, P384_SCALAR_SIZE>& s, const Certificate& vek);

}  // namespace cvm::verify
