// Evidence from the real vectors in tests/vectors/snp-reports, for the verify tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/claim.h"
#include "verify/evidence.h"
#include "verify/verification.h"
#include "verify/verifier.h"

namespace cvm::test {

// Directories with a report that AMD really signed (the SIGFAIL vector is not among them).
inline const std::vector<std::string> SIGNED_REPORT_VECTORS = {
    "virtee_milan_v2", "gosevguest_milan_v2", "trustee_azure_genoa_v3", "oak_turin_v5", "trustee_milan_vlek_v3",
};

// Revocation off, saying why: these tests are about other claims, the AMD vectors' CRLs
// (snp-reports/amd_crls) expired before today, and the fixture roots' keys were thrown away
// (data/make_sim_chain.sh). test_crl.cc and test_revocation.cc check revocation itself.
inline const verify::VerifyOptions NO_REVOCATION = [] {
    verify::VerifyOptions o;
    o.revocation_off_by = "test: not about revocation";
    return o;
}();

// report.bin (when present), vcek.der or vlek.der, and the chain as the directory holds it
// (ask_ark.pem, or ask.pem/asvk.pem plus ark.pem). `with_chain` false leaves ask/ark empty so the
// built-in roots are used.
verify::Evidence vector_evidence(const std::string& dir, bool with_chain = true);

// Whether the vector directory holds `name`.
bool vector_has(const std::string& dir, const std::string& name);

// "name pass|FAIL found=... expected=... detail=..." per claim, for failure messages.
std::string dump(const verify::Verification& v);

// A Verifier, failing the calling test (with the error) if it cannot be created.
std::unique_ptr<verify::Verifier> make_verifier(verify::VerifierOptions options = {});

// The names of all claims, and of the failing ones, in order.
using Names = std::vector<std::string>;
Names names(const verify::Verification& v);
Names failing(const verify::Verification& v);

// The claim named `name`; fails the test when it is absent.
const Claim& claim(const verify::Verification& v, const std::string& name);

}  // namespace cvm::test
