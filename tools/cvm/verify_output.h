// How `cvm verify` shows a verdict: one line per claim for people, or one flat JSON object for
// policy engines (OPA/Rego can query `input["policy.debug"]` or `input.measurement` directly).
#pragma once

#include <cstdio>
#include <optional>
#include <vector>

#include "base/claim.h"
#include "snp/report.h"

namespace cvm::cli {

struct VerifyOutcome {
    std::vector<Claim> claims;
    std::optional<snp::AttestationReport> report;  // present when the report parsed
    std::optional<snp::Product> product;
    const char* signer{"?"};  // "VCEK", "VLEK"
    bool pass() const { return all_pass(claims); }
};

// "PASS chain.ark  ..." lines, the report's identity, then "verdict: PASS" or
// "verdict: FAIL (N of M claims failed)".
void print_text(FILE* out, const VerifyOutcome& outcome);

// One JSON object, no nesting: "verdict", each claim name -> true/false, and the report fields
// as numbers or lower-case hex strings ("measurement", "report_data", "reported_tcb", ...).
void print_json(FILE* out, const VerifyOutcome& outcome);

}  // namespace cvm::cli
