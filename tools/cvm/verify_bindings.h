// The bindings `cvm verify` and `cvm attest` check beyond a report's authenticity:
//
//   binding.user_data   cvm verify --user-data HEX: the report's REPORT_DATA is
//                       proto::workload_user_data(HEX), the evidence POST /v1/evidence gave a
//                       workload for that user data (docs/agent-api.md)
//   ratls.*, issuer.*   cvm verify --ratls CERT, cvm attest: the certificate's evidence as
//                       ratls::verify_certificate judges it (ratls/verify.h); the subject report's
//                       verify claims under their usual names, the issuer (agent key) report's
//                       under "issuer." + name, the policy on the subject report
#pragma once

#include <optional>
#include <string>

#include "args.h"
#include "base/claim.h"
#include "ratls/ratls.h"
#include "ratls/verify.h"
#include "snp/report.h"
#include "verify_setup.h"

namespace cvm::cli {

// The claim binding.user_data for `report` (failing "not checked" when it did not parse).
Claim user_data_claim(const std::optional<snp::AttestationReport>& report, ByteView user_data);

// --binding workload|agent-key|broker (default workload) and --nonce HEX (at most `max_nonce`
// bytes; RATLS_BROKER_TAG's is exactly 64) as an Expectation. Errc::Config naming the flag.
Result<ratls::Expectation> ratls_expectation(const Args& args, size_t max_nonce);

// The RA-TLS verification of `cert` with `setup`'s verifier, options, revocation (its CRL goes
// with both reports) and policy, as one verdict.
Result<VerifyOutcome> verify_ratls(const ratls::Certificate& cert, const ratls::Expectation& expect,
                                   const VerifySetup& setup);

}  // namespace cvm::cli
