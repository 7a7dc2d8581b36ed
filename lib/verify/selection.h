// Which roots are trusted, and which root, intermediate and product line a piece of evidence is
// checked against. Internal to the verify layer (Verifier's steps, see verifier.h for the rules).
#pragma once

#include <optional>
#include <vector>

#include "base/claim.h"
#include "snp/amd_extensions.h"
#include "snp/report.h"
#include "verify/amd_roots.h"
#include "verify/chain.h"
#include "verify/evidence.h"

namespace cvm::verify {

struct Trust {
    std::vector<AmdRoots> amd;              // Milan, Genoa, Turin, in snp::Product order
    std::vector<Certificate> caller_roots;  // each passed check_ark(CallerSupplied)

    const AmdRoots& roots(snp::Product product) const { return amd[static_cast<size_t>(product)]; }
};

// The built-in roots (pins checked) plus `caller_roots`, each of which must pass the root rules
// (Errc::Config naming the root and the broken rule otherwise).
Result<Trust> load_trust(std::vector<Certificate> caller_roots);

// SIGNING_KEY of a signed report; otherwise the VEK's CN ("SEV-VLEK" -> VLEK), else VCEK.
VekKind decide_kind(const snp::AttestationReport* report, const Certificate* vek);

// The product line, in the order verifier.h states; nullopt when nothing names one, and always
// nullopt for a report whose CPUID names a product this verifier refuses (Venice, snp/tcb.h):
// neither --product nor the certificate can make it parse with another product's layout.
std::optional<snp::Product> decide_product(const Trust& trust, std::optional<snp::Product> requested,
                                           const snp::AttestationReport* report, const Certificate* vek,
                                           const snp::AmdExtensions* ext, VekKind kind);

// The root and intermediate to check. A null `ark` or `ask` comes with the failing claim saying
// why. Certificates parsed from the evidence live here, so a Selection is not movable.
struct Selection {
    const Certificate* ark{nullptr};
    const Certificate* ask{nullptr};
    std::optional<Anchor> anchor;
    Claim ark_failure;
    Claim ask_failure;
    std::optional<Certificate> evidence_ark;
    std::optional<Certificate> evidence_ask;

    Selection() = default;
    Selection(const Selection&) = delete;
    Selection& operator=(const Selection&) = delete;
};

// Why the product line is unknown, for the claims that cannot be checked without one: the refusal
// of an unsupported product the report's CPUID names ("Venice (CPUID family 1Ah model 50h) is not
// supported until AMD publishes its KDS format ..."), else "the product line is unknown".
std::string unknown_product_reason(const snp::AttestationReport* report);

void select_chain(Selection& out, const Trust& trust, const Evidence& evidence, std::optional<snp::Product> product,
                  VekKind kind);

}  // namespace cvm::verify
