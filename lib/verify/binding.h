// What binds a VCEK/VLEK certificate to one report: its AMD extensions (snp/amd_extensions.h)
// against the report's fields. One Claim per rule (KDS spec 57230 Table 8; report.md §3.2):
//
//   vek.struct_version  structVersion 0 on Milan/Genoa, 1 on Turin: it selects the TCB layout
//   vek.product         productName's product line (stepping ignored) is the product; on
//                       report v3+ the CPUID product is the same product
//   vek.kind            VCEK: hwID and no cspID; VLEK: cspID and no hwID
//   vek.tcb             blSPL, teeSPL, snpSPL, ucodeSPL (and fmcSPL on Turin) equal
//                       REPORTED_TCB component by component
//   vek.hwid            VCEK: hwID equals CHIP_ID (64 bytes on Milan/Genoa; on Turin 8 bytes
//                       equal CHIP_ID[0..8) and CHIP_ID[8..64) is zero). Passes without comparing
//                       — and says so — when CHIP_ID is all zero (the host set MASK_CHIP_ID).
//                       VLEK: no hardware binding exists; passes and says so.
//   report.signing_key  SIGNING_KEY is VCEK (0) or VLEK (1) and MASK_CHIP_KEY is clear: NONE (7)
//                       or a masked chip key means the report is unsigned
#pragma once

#include <optional>

#include "base/claim.h"
#include "snp/amd_extensions.h"
#include "snp/report.h"
#include "verify/amd_roots.h"

namespace cvm::verify {

// The key kind SIGNING_KEY names, or nullopt for an unsigned report (NONE or MASK_CHIP_KEY).
std::optional<VekKind> signer_of(const snp::AttestationReport& report);

Claim check_signing_key(const snp::AttestationReport& report);

Claim check_struct_version(const snp::AmdExtensions& ext, snp::Product product);

// `report` may be null (chain-only verification): then only productName is compared.
Claim check_product(const snp::AmdExtensions& ext, snp::Product product, const snp::AttestationReport* report);

Claim check_kind(const snp::AmdExtensions& ext, VekKind kind);

Claim check_tcb(const snp::AmdExtensions& ext, snp::Product product, const snp::AttestationReport& report);

Claim check_hwid(const snp::AmdExtensions& ext, VekKind kind, snp::Product product,
                 const snp::AttestationReport& report);

}  // namespace cvm::verify
