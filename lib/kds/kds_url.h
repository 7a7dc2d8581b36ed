// What to ask the AMD Key Distribution Service for, and the request paths it answers
// (AMD "VCEK Certificate and KDS Interface Specification" 57230, §4; ../shared/reference/report.md §3.3):
//
//   VCEK        /vcek/v1/{Milan|Genoa}/{CHIP_ID, 128 hex}?blSPL=B&teeSPL=T&snpSPL=S&ucodeSPL=U
//               /vcek/v1/Turin/{CHIP_ID[0..8), 16 hex}?fmcSPL=F&blSPL=B&teeSPL=T&snpSPL=S&ucodeSPL=U
//   ASK + ARK   /vcek/v1/{P}/cert_chain   (PEM, ASK first)
//   ASVK + ARK  /vlek/v1/{P}/cert_chain
//   CRL         /vcek/v1/{P}/crl, /vlek/v1/{P}/crl   (DER, signed by the ARK)
//
// SPLs are decimal, zero-padded to two digits as snpguest and trustee send them; hex is lower
// case. Bergamo and Siena parts use the Genoa line (snp::product_from_cpuid already maps them).
// VLEK certificates are not public (KDS wants CSP credentials), so they are not fetched here.
#pragma once

#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "snp/report.h"
#include "snp/tcb.h"

namespace cvm::kds {

inline constexpr const char* DEFAULT_BASE_URL = "https://kdsintf.amd.com";

// The signing-key family a certificate chain or CRL belongs to.
enum class KeyFamily : uint8_t { Vcek, Vlek };

std::string_view key_family_name(KeyFamily family);  // "vcek", "vlek"

// Identifies one VCEK: the chip and the TCB it was derived for.
struct VcekId {
    snp::Product product{snp::Product::Milan};
    Bytes hwid;  // CHIP_ID: all 64 bytes on Milan and Genoa, the first 8 on Turin
    snp::TcbVersion tcb;
};

// The VCEK a report was signed with: CHIP_ID and REPORTED_TCB of `report`. The product comes
// from the report's CPUID fields (version 3 and later) or from `product` (needed for version 2
// reports); when both are known they must agree. Fails with Errc::Config when the product is
// unknown or contradicts the report, Errc::Unsupported for a VLEK-signed or unsigned report
// and for a masked (all-zero) CHIP_ID, which KDS cannot look up.
Result<VcekId> vcek_id(const snp::AttestationReport& report, std::optional<snp::Product> product);

// Request paths (no base URL), as listed above.
std::string vcek_path(const VcekId& id);
std::string cert_chain_path(snp::Product product, KeyFamily family);
std::string crl_path(snp::Product product, KeyFamily family);

}  // namespace cvm::kds
