// Claim: one named check of evidence and its outcome, as verifiers print and policy engines read.
//
// Every check — chain link, signature, TCB binding, policy field — produces one Claim so an
// operator sees every failing field in one run, not just the first. `found` and `expected` are
// display strings (hex for byte fields); `detail` says why a failing claim failed.
#pragma once

#include <string>
#include <vector>

namespace cvm {

struct Claim {
    std::string name;  // dotted, stable: "chain.ark", "report.signature", "policy.debug"
    bool pass{false};
    std::string found;
    std::string expected;
    std::string detail;
};

inline bool all_pass(const std::vector<Claim>& claims)
{
    for (const Claim& c : claims) {
        if (!c.pass)
            return false;
    }
    return !claims.empty();
}

}  // namespace cvm
