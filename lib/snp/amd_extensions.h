// The AMD-specific X.509 extensions of VCEK and VLEK certificates (OID arc 1.3.6.1.4.1.3704.1;
// AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface Specification" 57230,
// Table 8 "VCEK Certificate Extensions"). Pure bytes: no cryptography here.
//
//   .1 structVersion INTEGER        .2 productName IA5String      .3.1 blSPL  .3.2 teeSPL
//   .3.3 snpSPL  .3.4-.3.7 spl4..7  .3.8 ucodeSPL  .3.9 fmcSPL (Turin)
//   .4 hwID: raw bytes without a DER tag (64 on Milan/Genoa, 8 on Turin); a DER OCTET STRING
//      wrapper is accepted too.       .5 cspID IA5String (VLEK only)
#pragma once

#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "snp/tcb.h"

namespace cvm::snp {

struct AmdExtensions {
    std::optional<uint32_t> struct_version;
    std::optional<std::string> product_name;
    std::optional<uint8_t> bl_spl, tee_spl, snp_spl, ucode_spl, fmc_spl;
    std::optional<Bytes> hwid;
    std::optional<std::string> csp_id;

    // The TCB these SPLs describe; fails naming the first missing SPL (FMC required on Turin).
    Result<TcbVersion> tcb(Product product) const;
};

// Parses the content of an X.509 `Extensions` SEQUENCE (the concatenated Extension elements).
// Non-AMD extensions are skipped; AMD ones must be well-formed and appear at most once. Fails
// with Errc::Format naming the OID.
Result<AmdExtensions> parse_amd_extensions(ByteView extensions);

}  // namespace cvm::snp
