// AMD's built-in trust anchors and the names AMD gives its certificates.
//
// Per product line AMD runs one root and two intermediates (KDS spec 57230; report.md §3.1):
//
//   ARK  "ARK-<Product>"       self-signed root, RSA-4096
//   ASK  "SEV-<Product>"       signed by the ARK, issues VCEKs ("SEV-VCEK")
//   ASVK "SEV-VLEK-<Product>"  signed by the ARK, issues VLEKs ("SEV-VLEK")
//
// The nine certificates are compiled in (amd_roots_pem.cc) and each is pinned by the SHA-256 of
// its DER (tests/vectors/snp-reports/amd_roots/FINGERPRINTS.txt); load_amd_root() refuses a
// certificate whose fingerprint differs from its pin.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "snp/tcb.h"
#include "verify/certificate.h"

namespace cvm::verify {

// Which endorsement key signed a report (SIGNING_KEY 0 / 1) and so which intermediate issued it.
enum class VekKind : uint8_t { Vcek, Vlek };

enum class RootKind : uint8_t { Ark, Ask, Asvk };

std::string_view vek_kind_name(VekKind kind);    // "VCEK", "VLEK"
std::string_view root_kind_name(RootKind kind);  // "ARK", "ASK", "ASVK"

// The intermediate that issues `kind`: ASK for VCEK, ASVK for VLEK.
RootKind issuer_of(VekKind kind);

// The subject CN AMD gives each certificate: "ARK-Milan", "SEV-Milan", "SEV-VLEK-Milan".
std::string amd_common_name(snp::Product product, RootKind kind);
// "SEV-VCEK", "SEV-VLEK".
std::string_view amd_common_name(VekKind kind);

// The pinned SHA-256 of the built-in certificate, lower-case hex.
std::string_view pinned_fingerprint(snp::Product product, RootKind kind);

// Parses the built-in certificate and checks it against its pin. Errc::Chain naming the
// certificate, the fingerprint found and the one expected when they differ — a build defect,
// never a property of the evidence.
Result<Certificate> load_amd_root(snp::Product product, RootKind kind);

// The three built-in certificates of one product line, each checked against its pin.
struct AmdRoots {
    snp::Product product;
    Certificate ark;
    Certificate ask;
    Certificate asvk;

    const Certificate& intermediate(VekKind kind) const { return kind == VekKind::Vcek ? ask : asvk; }
};

Result<AmdRoots> load_amd_roots(snp::Product product);

}  // namespace cvm::verify
