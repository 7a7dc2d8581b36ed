// Internal to lib/kbs (evidence.cc encodes, evidence_decode.cc decodes): the facts about virtee/sev's
// AttestationReport that both directions must agree on.
//
// Modelled on virtee/sev at d487809188c3c92e397bc92e2cb2a85eb982c980 (the `sev` 7.1.0 that
// confidential-containers/trustee 78962cd pins by a Cargo [patch] section in Cargo.toml and Cargo.lock,
// used by deps/verifier with the "serde" feature):
//   src/firmware/guest/types/snp.rs:245   struct AttestationReport, serde derive, members in the
//                                         order below; policy/plat_info/key_info are newtype
//                                         structs (lines 825, 939, 1026), so plain JSON integers
//   src/firmware/guest/types/snp.rs:357   Encoder: the bytes Trustee rebuilds and verifies (its
//                                         Verifiable impl at line 708 hashes to_bytes()[..0x2a0])
//   src/firmware/guest/types/snp.rs:561   chip_id_is_turin_like: the layout of a version 2 report
//   src/firmware/host/types/snp.rs:509    struct TcbVersion {fmc: Option<u8>, bootloader, tee, snp,
//                                         microcode}; to_legacy_bytes (578), to_turin_bytes (601)
//   src/firmware/guest/types/snp.rs:139   struct Version {major, minor, build}
//   src/certs/snp/ecdsa/mod.rs:35         struct Signature {r: [u8; 72], s: [u8; 72]}
//   src/lib.rs:263                        Generation::identify_cpu, the CPUID -> product table
// and on Trustee's verifier at 78962cd, deps/verifier/src/snp/mod.rs: SnpEvidence (line 39,
// serde_json::from_value at 385), then VERSION 3..5 (389-393), the product from CPUID (685; note
// that it writes Genoa's Zen 4c models as 0xA0..0xAF, excluding AFh, where sev includes it), the
// signature over sev's to_bytes() (500), the TCB against the VEK, VMPL 0 (507), REPORT_DATA and
// HOST_DATA. Nothing of that is decided here: the encoder keeps every report it can represent.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "snp/tcb.h"

namespace cvm::kbs::detail {

// How sev writes TCB_VERSION: the Milan/Genoa layout (fmc None) or Turin's (fmc Some).
enum class TcbLayout : uint8_t { Legacy, Turin };

// The layout sev's Encoder chooses. Version 3 and later: from CPUID_FAM_ID/CPUID_MOD_ID through
// Generation::identify_cpu (the same ranges as snp::product_from_cpuid); nullopt for a family or
// model it does not know, where sev's to_bytes fails, so Trustee could not rebuild the bytes.
// Version 2 has no CPUID fields: sev calls a CHIP_ID whose bytes 8..63 are zero Turin-like (a
// Turin hwID is 8 bytes). sev refuses an all-zero (masked) CHIP_ID outright (MaskedChipId); here
// it gets the Milan/Genoa layout, which every version 2 report has in practice, so that such a
// report still round-trips. Trustee refuses version 2 before it rebuilds any bytes
// (deps/verifier/src/snp/mod.rs:389, REPORT_VERSION_MIN 3).
inline std::optional<TcbLayout> tcb_layout(uint32_t version, uint8_t family, uint8_t model,
                                           const std::array<uint8_t, 64>& chip_id)
{
    if (version >= 3) {
        auto product = snp::product_from_cpuid(family, model);
        if (!product)
            return std::nullopt;
        return *product == snp::Product::Turin ? TcbLayout::Turin : TcbLayout::Legacy;
    }
    bool masked = true;
    bool tail_zero = true;
    for (size_t i = 0; i < chip_id.size(); i++) {
        masked = masked && chip_id[i] == 0;
        tail_zero = tail_zero && (i < 8 || chip_id[i] == 0);
    }
    return !masked && tail_zero ? TcbLayout::Turin : TcbLayout::Legacy;
}

inline snp::Product layout_product(TcbLayout layout)
{
    // TcbVersion::encode/decode only distinguish Turin from the rest.
    return layout == TcbLayout::Turin ? snp::Product::Turin : snp::Product::Milan;
}

// The 1184-byte report has 72-byte R and S fields; ECDSA P-384 uses the low 48 bytes.
inline constexpr size_t SIG_FIELD = 72;
inline constexpr size_t SIG_USED = 48;

}  // namespace cvm::kbs::detail
