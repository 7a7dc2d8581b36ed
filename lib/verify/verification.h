// Verification: the outcome of verifying one piece of evidence — every claim, plus what was
// learned on the way — and the simple pass/fail view of it.
//
// Claims, in the order they are checked (each is present in every outcome unless noted; a
// claim that could not be evaluated because an earlier step failed is present and failing,
// with found "not checked"):
//
//   report.format       the report parses (snp::parse_report)                  [report given]
//   report.signing_key  SIGNING_KEY names a key, MASK_CHIP_KEY clear            [report given]
//   chain.ark           the root: pinned AMD ARK for the product, or a caller-supplied root
//   chain.ask           the ASK (VCEK) or ASVK (VLEK), signed by the root
//   chain.vek           the VCEK/VLEK certificate, signed by the ASK/ASVK
//   chain.validity      certificate dates                                       [only with `now`]
//   chain.revocation    the ARK-signed CRL of the product and key family: signature, issuer,
//                       dates; neither the ASK/ASVK nor the VEK serial listed (crl.h)
//   vek.extensions      the AMD extensions of the VEK parse
//   vek.struct_version, vek.product, vek.kind                                   (binding.h)
//   vek.tcb, vek.hwid                                                           [report given]
//   report.signature    ECDSA P-384/SHA-384 over [0, 0x2A0) under the VEK       [report given]
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/claim.h"
#include "base/result.h"
#include "snp/report.h"
#include "verify/amd_roots.h"
#include "verify/chain.h"

namespace cvm::verify {

struct Verification {
    std::vector<Claim> claims;
    // Set when the report parsed — also when it then failed verification; use verified_report()
    // for a report whose every claim passed.
    std::optional<snp::AttestationReport> report;
    std::optional<snp::Product> product;  // the product line the evidence was checked as
    std::optional<VekKind> vek_kind;
    std::optional<Anchor> anchor;            // how the root was trusted
    std::optional<snp::TcbVersion> vek_tcb;  // the SPLs of the VEK certificate

    // Every claim passed (and there is at least one).
    bool pass() const { return all_pass(claims); }

    // Success when pass(); otherwise the first failing claim as an Error: Errc::Format for
    // report.format, Errc::Crypto for report.signing_key and report.signature, Errc::Chain for
    // chain.* and vek.*. The message names the claim, the detail, the value found and expected.
    Result<void> status() const;

    // The report, only when pass(); otherwise status()'s error.
    Result<snp::AttestationReport> verified_report() const;

    // The claim named `name`, or null.
    const Claim* find(std::string_view name) const;
};

// Every claim name the verify layer can produce, in the order above. Outputs that promise every
// claim (cvm verify --json) fill the ones a run did not produce as failing "not checked".
const std::vector<std::string_view>& claim_names();

// The Errc a failing claim of this name maps to (see status()).
Errc claim_errc(std::string_view name);

}  // namespace cvm::verify
