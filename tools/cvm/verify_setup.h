// What `cvm verify` and `cvm attest` share: the flags of trust, revocation and policy, the
// verifier and policy they make, and how a verification becomes the claims of one verdict.
#pragma once

#include <memory>
#include <vector>

#include "args.h"
#include "base/claim.h"
#include "crl_source.h"
#include "kds_evidence.h"
#include "policy/policy.h"
#include "verify/verifier.h"
#include "verify_output.h"

namespace cvm::cli {

// --kds-url, --cache-dir, --cache-ttl, --offline, --policy, --product, --trusted-root,
// --check-dates, --crl, --no-revocation, --at, --sim-dir, --json.
const std::vector<FlagSpec>& verify_setup_flags();

// Everything a verification needs besides the evidence. --sim-dir DIR is --trusted-root
// DIR/ark.pem and, unless --crl or --no-revocation is given, --crl DIR/crl.der: a platform of
// `cvm sim init`.
struct VerifySetup {
    std::unique_ptr<verify::Verifier> verifier;
    policy::Policy policy;
    verify::VerifyOptions options;
    RevocationSettings revocation;
    // The policy is a broker configuration's whose measurements are its [[policy.release]]
    // releases' (no measurement list): policy.measurement defers to release.measurement.
    bool measurements_from_releases{false};
};

// Errc::Config naming the flag or file for anything that cannot be used.
Result<VerifySetup> verify_setup(const Args& args);

// --product, --kds-url, --cache-dir, --cache-ttl, --offline.
Result<KdsSettings> kds_settings(const Args& args);

// The claims of one verdict: `v`'s, chain.validity "not required" unless dates were checked,
// the policy's on `v`'s report (all "not evaluated" without one), then `extra` (bindings, the
// RA-TLS claims), arranged by every_claim().
VerifyOutcome outcome_of(const verify::Verification& v, const VerifySetup& setup, std::vector<Claim> extra = {});

}  // namespace cvm::cli
