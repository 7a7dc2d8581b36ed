// How `cvm verify` shows a verdict: one line per claim for people, or the versioned JSON document
// "cvm.verify/2" for policy engines (docs/verify.md; schema: docs/schema/cvm.verify-2.json).
#pragma once

#include <cstdio>
#include <optional>
#include <vector>

#include "base/claim.h"
#include "snp/report.h"
#include "verify/amd_roots.h"

namespace cvm::cli {

inline constexpr const char* VERIFY_JSON_SCHEMA = "cvm.verify/2";

struct VerifyOutcome {
    std::vector<Claim> claims;                     // as every_claim() arranges them
    std::optional<snp::AttestationReport> report;  // present when the report parsed
    std::optional<snp::Product> product;           // the product line the evidence was checked as
    std::optional<verify::VekKind> signer;         // VCEK or VLEK, as the verifier decided
    bool simulated{false};                         // rooted at a caller-trusted root (cvm sim)

    // Every claim passed (and there is at least one): the verdict and the exit status.
    bool pass() const { return all_pass(claims); }
};

// The claims of a run as a document promises them: first every name of verify::claim_names(),
// then every name of policy::claim_names(), in those orders, then any other name the run produced
// (in its order). A listed name the run did not produce is a failing claim with found
// "not checked". A name the run produced twice appears once: its first failing instance if it
// has one, else its first. Names are therefore unique, as JSON object keys must be.
std::vector<Claim> every_claim(const std::vector<Claim>& produced);

// "PASS chain.ark  ..." lines, the report's identity, then "verdict: PASS" or
// "verdict: FAIL (N of M claims failed)".
void print_text(FILE* out, const VerifyOutcome& outcome);

// The document cvm.verify/2, pretty-printed, one trailing newline:
//   {"schema": "cvm.verify/2", "verdict": "pass"|"fail", "simulated": bool,
//    "product": "Milan"|"Genoa"|"Turin"|null, "signer": "VCEK"|"VLEK"|null,
//    "report": {every ATTESTATION_REPORT field, typed} | null (the report did not parse),
//    "claims": {name: {"pass": bool, "found": str, "expected": str, "reason": str}}}
// Integers that fit 32 bits are numbers; 64-bit raw values (GUEST_POLICY, PLATFORM_INFO, each TCB,
// the mitigation vectors) are "0x" + 16 lower-case hex digits, since many JSON readers (jq among
// them) hold numbers as doubles; byte strings are lower-case hex. Report field names contain no
// dot, claim names always do: no report field, nor "report." + its path, is a claim name.
void print_json(FILE* out, const VerifyOutcome& outcome);

}  // namespace cvm::cli
