// The simulated AMD Secure Processor: signs ATTESTATION_REPORTs with the platform's VCEK, with
// exactly the byte layout of real firmware (AMD SEV-SNP ABI 56860, Table 23 "ATTESTATION_REPORT
// Structure"; MSG_REPORT_REQ). SIMULATED: see chain.h.
//
// The adversarial cases a test needs go through this same API: a LaunchState with DEBUG in its
// policy or another measurement, a get_report() at VMPL 1..3, a platform created with a TCB below
// a policy minimum, a report signed by another platform's VCEK.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "base/bytes.h"
#include "base/result.h"
#include "sim/chain.h"

namespace cvm::sim {

// What the host fixes at launch (SNP_LAUNCH_START / SNP_LAUNCH_FINISH); the PSP copies it into
// every report of the guest.
struct LaunchState {
    std::array<uint8_t, 48> measurement{};
    // GUEST_POLICY (56860 Table 9): bit 16 SMT allowed, bit 17 reserved-must-be-one; no DEBUG
    // (bit 19), no migration agent (bit 18). Bits 63:26 must be zero.
    uint64_t policy{0x30000};
    std::array<uint8_t, 32> host_data{};
    std::array<uint8_t, 16> family_id{};
    std::array<uint8_t, 16> image_id{};
    uint32_t guest_svn{0};
    // PLATFORM_INFO (56860 Table 24): bit 0 SMT enabled.
    uint64_t platform_info{0x1};
    // From the ID block and ID auth block, when the launch had them (zero: none). A non-zero
    // author_key_digest sets AUTHOR_KEY_EN.
    std::array<uint8_t, 48> id_key_digest{};
    std::array<uint8_t, 48> author_key_digest{};
};

inline constexpr uint32_t MAX_VMPL = 3;

class SimulatedPsp {
public:
    // Parses the platform's VCEK key and checks it against the VCEK certificate. Errc::Config
    // when the launch policy is one real firmware refuses at SNP_LAUNCH_START (bit 17 clear, bits
    // 63:26 set); Errc::Format/Crypto for a key that does not parse or match.
    static Result<SimulatedPsp> create(const Platform& platform, LaunchState launch);

    SimulatedPsp(SimulatedPsp&&) noexcept;
    SimulatedPsp& operator=(SimulatedPsp&&) noexcept;
    ~SimulatedPsp();

    // A signed report (1184 bytes): version 3 (5 on Turin), REPORT_DATA and VMPL as given, a
    // fresh random REPORT_ID, REPORT_ID_MA all ones (no migration agent), CURRENT/COMMITTED/
    // LAUNCH/REPORTED_TCB the platform's, CHIP_ID the platform's, the product's CPUID and a
    // firmware version, SIGNING_KEY VCEK; ECDSA P-384/SHA-384 over bytes [0, 0x2A0) with R and S
    // little-endian in 72-byte fields. Errc::Config for a VMPL above 3. Thread-safe.
    Result<Bytes> get_report(const std::array<uint8_t, 64>& report_data, uint32_t vmpl) const;

    // The certificates as SNP_GET_EXT_REPORT and configfs-tsm's auxblob hand them out: a GUID
    // certificate table (snp/cert_table.h) with the VCEK, ASK and ARK.
    const Bytes& cert_table() const { return m_cert_table; }

    snp::Product product() const { return m_product; }
    const LaunchState& launch() const { return m_launch; }

    struct State;  // the key and the DRBG, behind a mutex

private:
    SimulatedPsp() = default;

    std::unique_ptr<State> m_state;
    snp::Product m_product{snp::Product::Genoa};
    snp::TcbVersion m_tcb;
    ChipId m_chip_id{};
    LaunchState m_launch;
    Bytes m_cert_table;
};

}  // namespace cvm::sim
