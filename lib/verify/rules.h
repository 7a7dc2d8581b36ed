// Helpers that turn a sequence of rules into one Claim. Internal to the verify layer.
#pragma once

#include <string>

#include "base/claim.h"
#include "base/result.h"

namespace cvm::verify {

// Evaluates rules in order; the first broken rule decides the claim's found/expected/detail and
// the later rules are skipped (the object is already rejected, and a later rule may depend on an
// earlier one, e.g. a signature check on a key of the wrong type).
class Rules {
public:
    // `found` / `expected` describe the object as a whole; a broken rule replaces them with its own.
    Rules(std::string name, std::string found, std::string expected);

    // Records a broken rule unless one was already recorded. Returns `ok`.
    bool need(bool ok, std::string found, std::string expected, std::string why);
    // Same for a Result: the Error message is the detail.
    bool need(const Result<void>& result, std::string found, std::string expected);

    bool ok() const { return m_claim.pass; }

    // `detail_on_pass` says what was checked.
    Claim finish(std::string detail_on_pass) &&;

private:
    Claim m_claim;
};

Claim make_claim(std::string name, bool pass, std::string found, std::string expected, std::string detail);

// A claim that could not be evaluated because an earlier step failed: it fails, never passes.
Claim not_checked(std::string name, std::string expected, std::string why);

// `text` with bytes outside printable ASCII shown as \xNN, bounded to 80 characters: certificate
// names come from untrusted input and end up on a terminal.
std::string printable(std::string_view text);

}  // namespace cvm::verify
