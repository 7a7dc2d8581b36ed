// Revocation in `cvm verify`: whether chain.revocation is checked, and where the CRL comes from.
//
//   --no-revocation            off, shown as found "disabled by --no-revocation"
//   policy revocation = false  off, "disabled by policy revocation = false"
//   --crl FILE                 this CRL (DER or PEM), for any root
//   otherwise                  for AMD-rooted evidence, the CRL of its product and key family
//                              from KDS (/vcek|vlek/v1/{product}/crl) through the certificates'
//                              cache: same directory, TTL, --offline and stale fallback. A stale
//                              copy is bounded by its own nextUpdate, which the claim checks;
//                              a cached copy past its nextUpdate is asked for again.
//                              For a caller-supplied (--trusted-root, simulated) root KDS cannot
//                              help: the claim fails, saying to pass that platform's CRL or
//                              --no-revocation.
// Says on stderr where the CRL came from, as kds_evidence.cc does for certificates.
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "args.h"
#include "kds_evidence.h"
#include "policy/policy.h"
#include "verify/verifier.h"

namespace cvm::cli {

struct RevocationSettings {
    std::string off_by;                   // non-empty: revocation is off, by this
    std::optional<std::string> crl_file;  // --crl
    std::optional<std::time_t> at;        // --at: the time CRL (and --check-dates) dates are checked at
    KdsSettings kds;                      // where AMD's CRL is fetched from otherwise
};

// From --crl, --no-revocation, --at and the policy. Errc::Config for --crl with --no-revocation,
// or an --at that is not seconds since the epoch or YYYY-MM-DD[THH:MM:SSZ].
Result<RevocationSettings> revocation_settings(const Args& args, const policy::Policy& policy, KdsSettings kds);

// Verifies `evidence` with revocation as `settings` say: with the --crl file, or, for evidence
// that verifies up to a pinned AMD root without a CRL, once more with the CRL fetched from KDS
// (the chain and VEK are cached by then, so that costs one ECDSA verification). A CRL that
// cannot be had (KDS down, no cached copy) leaves the claim failing "no CRL" and says why on
// stderr. Errc::Io when the --crl file cannot be read.
// The options verify_with_revocation() verifies with: revocation_off_by, and --at's time for the
// CRL's dates (and the certificates' with --check-dates).
verify::VerifyOptions revocation_options(verify::VerifyOptions options, const RevocationSettings& settings);

// AMD's CRL for evidence `first` verified without one, when revocation is on without --crl and
// `first` verified up to a pinned AMD root but failed chain.revocation: from KDS or its cache.
// nullopt otherwise, or when none can be had (said on stderr).
std::optional<Bytes> amd_crl_for(const verify::Verification& first, const RevocationSettings& settings,
                                 std::time_t now);

Result<verify::Verification> verify_with_revocation(verify::Verifier& verifier, verify::Evidence& evidence,
                                                    verify::VerifyOptions options, const RevocationSettings& settings);

}  // namespace cvm::cli
