// Certificate revocation lists for the simulated platform, shaped as AMD's KDS serves them, so
// the revoked path of a verifier is testable end to end. SIMULATED: signed by the simulated ARK.
//
// AMD's CRLs (KDS spec 57230 §4: GET /vcek/v1/{product}/crl and /vlek/v1/{product}/crl, DER):
// one per product and key family, issued and signed by the product's ARK, listing revoked
// ASK/ASVK and VLEK serials. Their shape, as `openssl crl -text` shows them:
//   CertificateList (RFC 5280 §5.1) with version v2, signature RSASSA-PSS SHA-384 / MGF1-SHA-384
//   / salt 48 (the certificates' scheme, x509_builder.h) with trailerField omitted as in the
//   VCEKs, issuer the ARK's subject Name byte for
//   byte, thisUpdate and nextUpdate, revokedCertificates absent when nothing is revoked
//   (RFC 5280 §5.1.2.6: an empty list is omitted), each entry a serial and revocationDate
//   without entry extensions; crlExtensions authorityKeyIdentifier (the ARK's key identifier)
//   and cRLNumber.
// Times are UTCTime until 2049, as in the certificates (asn1::x509_time). The real ones are in
// tests/vectors/snp-reports/amd_crls/ (e.g. Genoa's lists the old ASK serial 0x020001).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "sim/chain.h"
#include "sim/mbedtls_util.h"
#include "sim/x509_builder.h"

namespace cvm::sim {

// How long `cvm sim init`'s CRL and `cvm sim crl`'s default one are valid: a simulated platform
// lives in CI caches and demo directories for months, so a year rather than AMD's weeks.
inline constexpr std::time_t DEFAULT_CRL_VALIDITY = 365 * 24 * 60 * 60;

struct RevokedEntry {
    uint64_t serial{0};
    std::time_t revoked_at{0};
};

// Every field of a CRL, for the simulator and for tests that need malformed or hostile ones.
struct CrlSpec {
    std::optional<uint8_t> version{1};  // the encoded value: 1 is v2; nullopt omits it (a v1 CRL)
    Bytes issuer;                       // DER Name
    std::time_t this_update{0};
    std::optional<std::time_t> next_update;
    std::vector<RevokedEntry> revoked;  // none: revokedCertificates omitted
    Bytes extensions;                   // concatenated Extension elements; none when empty
    RsaPadding padding{RsaPadding::Pss};
};

// The DER CRL of `spec`, signed by `key` (RSA) with SHA-384 and `padding`. Errc::Config for an
// unrepresentable date, Errc::Crypto when mbedTLS cannot sign.
Result<Bytes> sign_crl(const CrlSpec& spec, PkKey& key, Drbg& drbg);

// What `cvm sim crl` chooses.
struct CrlOptions {
    std::vector<uint64_t> revoked;           // serials (SIM_ASK_SERIAL, SIM_VCEK_SERIAL, ...), revoked at this_update
    std::optional<std::time_t> this_update;  // default: now minus one day, for clocks that lag
    std::optional<std::time_t> next_update;  // default: this_update + DEFAULT_CRL_VALIDITY
    uint64_t crl_number{1};
};

// The platform's CRL, AMD-shaped as above, signed with `platform.ark_key_der`. Errc::Config when
// the platform has no ARK key (one read from a directory made before the key was kept) or when
// next_update precedes this_update; Errc::Format when the ARK certificate does not parse.
Result<Bytes> make_crl(const Platform& platform, const CrlOptions& options);

}  // namespace cvm::sim
