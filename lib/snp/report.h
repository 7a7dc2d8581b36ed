// ATTESTATION_REPORT: the 1184-byte structure the AMD Secure Processor signs.
//
// Layout: AMD SEV-SNP Firmware ABI Specification 56860, rev. 1.58, Table 23 "ATTESTATION_REPORT
// Structure", cross-checked against real AMD-signed reports (../shared/reference/report.md §1).
// Versions 2 to 5 are understood:
//   v2  bytes 0x188..0x1A0 reserved; LAUNCH/CURRENT_MIT_VECTOR (0x1F8..0x208) reserved
//   v3  adds CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP at 0x188..0x18A
//   v4  the version-3 layout: Milan firmware 1.55.31 writes VERSION 4 (go-sev-guest b8d75ce
//       "Account for version 4 report from FW 1.55.31"; virtee/sev #307 parses 3 and 4 alike)
//   v5  adds LAUNCH_MIT_VECTOR at 0x1F8 and CURRENT_MIT_VECTOR at 0x200
// Any other VERSION (0, 1, 6 and above) is rejected.
//
// parse_report() checks structure only (sizes, versions, reserved-must-be-zero ranges, including
// the unsigned tail 0x330..0x4A0); it does no cryptography.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "base/result.h"
#include "snp/tcb.h"

namespace cvm::snp {

inline constexpr size_t REPORT_SIZE = 0x4A0;
inline constexpr size_t REPORT_DATA_OFFSET = 0x050;
inline constexpr size_t SIGNED_SIZE = 0x2A0;  // the signature covers report[0x000 .. 0x2A0)
inline constexpr size_t SIGNATURE_OFFSET = 0x2A0;
inline constexpr size_t SIGNATURE_COMPONENT_SIZE = 72;  // R and S, little-endian, P-384 uses 48
inline constexpr uint32_t SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1;

// SIGNING_KEY field of the signer info word (bits 4:2).
enum class SigningKey : uint8_t { Vcek = 0, Vlek = 1, None = 7 };

// GUEST_POLICY (56860 Table 9), decoded.
struct GuestPolicy {
    static constexpr uint64_t RESERVED_MUST_BE_ONE = 1ull << 17;
    static constexpr uint64_t MBZ_MASK = ~((1ull << 26) - 1);  // bits 63:26

    uint64_t raw{0};
    uint8_t abi_minor() const { return static_cast<uint8_t>(raw); }
    uint8_t abi_major() const { return static_cast<uint8_t>(raw >> 8); }
    bool smt() const { return raw >> 16 & 1; }
    bool migrate_ma() const { return raw >> 18 & 1; }
    bool debug() const { return raw >> 19 & 1; }
    bool single_socket() const { return raw >> 20 & 1; }
    bool cxl_allow() const { return raw >> 21 & 1; }
    bool mem_aes_256_xts() const { return raw >> 22 & 1; }
    bool rapl_dis() const { return raw >> 23 & 1; }
    bool ciphertext_hiding() const { return raw >> 24 & 1; }
    bool page_swap_disable() const { return raw >> 25 & 1; }
};

// PLATFORM_INFO (56860 Table 24). Bits above 7 are reserved; bit 6 is set by real Turin parts
// without being documented, so unknown bits are reported, not rejected, at this layer.
struct PlatformInfo {
    uint64_t raw{0};
    bool smt_enabled() const { return raw & 1; }
    bool tsme_enabled() const { return raw >> 1 & 1; }
    bool ecc_enabled() const { return raw >> 2 & 1; }
    bool rapl_disabled() const { return raw >> 3 & 1; }
    bool ciphertext_hiding_enabled() const { return raw >> 4 & 1; }
    bool alias_check_complete() const { return raw >> 5 & 1; }
    bool tio_enabled() const { return raw >> 7 & 1; }
};

struct AttestationReport {
    uint32_t version{0};
    uint32_t guest_svn{0};
    GuestPolicy policy;
    std::array<uint8_t, 16> family_id{};
    std::array<uint8_t, 16> image_id{};
    uint32_t vmpl{0};
    uint32_t signature_algo{0};
    uint64_t current_tcb{0};
    PlatformInfo platform_info;
    bool author_key_en{false};
    bool mask_chip_key{false};
    SigningKey signing_key{SigningKey::Vcek};
    std::array<uint8_t, 64> report_data{};
    std::array<uint8_t, 48> measurement{};
    std::array<uint8_t, 32> host_data{};
    std::array<uint8_t, 48> id_key_digest{};
    std::array<uint8_t, 48> author_key_digest{};
    std::array<uint8_t, 32> report_id{};
    std::array<uint8_t, 32> report_id_ma{};
    uint64_t reported_tcb{0};
    uint8_t cpuid_fam_id{0};  // v3+
    uint8_t cpuid_mod_id{0};  // v3+
    uint8_t cpuid_step{0};    // v3+
    std::array<uint8_t, 64> chip_id{};
    uint64_t committed_tcb{0};
    uint8_t current_build{0}, current_minor{0}, current_major{0};
    uint8_t committed_build{0}, committed_minor{0}, committed_major{0};
    uint64_t launch_tcb{0};
    uint64_t launch_mit_vector{0};          // v5+
    uint64_t current_mit_vector{0};         // v5+
    std::array<uint8_t, 48> signature_r{};  // big-endian, as ECDSA libraries take it
    std::array<uint8_t, 48> signature_s{};

    // Product line from CPUID fields (v3+); nullopt for v2, where the certificate decides.
    std::optional<Product> cpuid_product() const { return product_from_cpuid(cpuid_fam_id, cpuid_mod_id); }
};

// Parses and structurally validates a raw report. Fails with Errc::Format naming the field for
// wrong size, reserved bytes set, POLICY bit 17 clear or bits 63:26 set, reserved SIGNING_KEY
// values; with Errc::Unsupported naming VERSION or SIGNATURE_ALGO when those are not understood.
Result<AttestationReport> parse_report(ByteView raw);

// The exact bytes a well-formed report of this content has (the inverse of parse_report). Used
// by the simulated platform and by tests; the signature is written from signature_r/_s.
std::array<uint8_t, REPORT_SIZE> serialize_report(const AttestationReport& report);

std::string_view signing_key_name(SigningKey key);

}  // namespace cvm::snp
