// The ARK -> ASK/ASVK -> VCEK/VLEK rules, one Claim per link.
//
// Every link is checked explicitly instead of through a generic path builder:
//   - every signature is RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48 (signatures.h); anything
//     else is refused, naming the algorithm found;
//   - the ARK is self-issued and self-signed; ARK and ASK/ASVK are X.509 v3, RSA-4096 with
//     e = 65537, CA:TRUE
//     and may sign certificates; the VEK is X.509 v3, not a CA, and has an EC P-384 key;
//   - the signature, the one costly rule, is computed last and only when every other rule of the
//     link held, with an issuer key of AMD's shape (signatures.h);
//   - each certificate's issuer Name equals its parent's subject Name, byte for byte;
//   - names as AMD issues them: ARK "ARK-<Product>", ASK "SEV-<Product>", ASVK
//     "SEV-VLEK-<Product>", VEK "SEV-VCEK" / "SEV-VLEK".
// Validity dates are not part of these rules: a guest's clock is the host's, and real AMD
// certificates in use are expired (report.md §3.1). check_validity() applies them on request.
//
// Caller-supplied roots (Anchor::CallerSupplied, e.g. the simulated chain `cvm sim` makes) get
// every rule above except the two AMD naming rules for the ARK and the ASK/ASVK CNs, and the pin:
// the caller trusted that root by its exact bytes, and a simulator must not pose as AMD under
// AMD's names. The VEK CN rule stays, since it says which kind of key signed.
#pragma once

#include <ctime>
#include <optional>

#include "base/claim.h"
#include "snp/tcb.h"
#include "verify/amd_roots.h"
#include "verify/certificate.h"

namespace cvm::verify {

enum class Anchor : uint8_t {
    AmdPinned,       // one of the built-in ARKs; `product` names which
    CallerSupplied,  // a root the caller passed in as trusted
};

// Claim "chain.ark". For AmdPinned, `product` is required and the fingerprint must equal the pin.
Claim check_ark(const Certificate& ark, Anchor anchor, std::optional<snp::Product> product);

// Claim "chain.ask": the ASK (for a VCEK) or ASVK (for a VLEK), issued and signed by `ark`.
Claim check_intermediate(const Certificate& intermediate, const Certificate& ark, VekKind kind, Anchor anchor,
                         std::optional<snp::Product> product);

// Claim "chain.vek": the VCEK or VLEK, issued and signed by `intermediate`.
Claim check_vek_certificate(const Certificate& vek, const Certificate& intermediate, VekKind kind);

// Claim "chain.validity": notBefore <= now <= notAfter for each of the three certificates.
Claim check_validity(const Certificate& ark, const Certificate& intermediate, const Certificate& vek, std::time_t now);

// "ARK-Milan sha256:69d063b4...": a certificate as claims show it.
std::string describe(const Certificate& cert);

}  // namespace cvm::verify
