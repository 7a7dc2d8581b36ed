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
#include "base/secret.h"
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

// MSG_KEY_REQ (56860 "MSG_KEY_REQ Message Structure"; Linux struct snp_derived_key_req): the
// request for a key derived from a root key and the guest fields GUEST_FIELD_SELECT names.
struct KeyRequest {
    uint32_t root_key_select{0};     // bit 0 VMRK; bits 2:1 KEY_SEL (0 VLEK if installed, 1 VCEK, 2 VLEK)
    uint32_t reserved{0};            // must be zero
    uint64_t guest_field_select{0};  // bits 0..5: POLICY, IMAGE_ID, FAMILY_ID, MEASUREMENT, GUEST_SVN, TCB_VERSION
    uint32_t vmpl{0};
    uint32_t guest_svn{0};
    uint64_t tcb_version{0};
};

// MSG_KEY_RSP STATUS values (include/uapi/linux/psp-sev.h SEV_RET_*).
inline constexpr uint32_t KEY_STATUS_SUCCESS = 0x00;
inline constexpr uint32_t KEY_STATUS_INVALID_PARAM = 0x16;
inline constexpr uint32_t KEY_STATUS_INVALID_KEY = 0x27;

// MSG_KEY_RSP: STATUS and, only when it is KEY_STATUS_SUCCESS, the key.
struct KeyResponse {
    uint32_t status{KEY_STATUS_SUCCESS};
    Secret<32> key;
};

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

    // MSG_KEY_REQ from a guest running at `caller_vmpl`. The firmware's checks, in this order, each
    // answered in STATUS (never an Error), as real firmware answers them in MSG_KEY_RSP:
    //   reserved bits set (reserved, ROOT_KEY_SELECT 31:3, GUEST_FIELD_SELECT 63:6: bit 6,
    //   LAUNCH_MIT_VECTOR, needs message version 2), KEY_SEL 3       -> KEY_STATUS_INVALID_PARAM
    //   VMRK (no migration agent), KEY_SEL 2 VLEK (a simulated platform has none: firmware
    //   without SNP_VLEK_LOAD)                                        -> KEY_STATUS_INVALID_KEY
    //   VMPL below caller_vmpl or above 3, GUEST_SVN above the launch's, TCB_VERSION above
    //   COMMITTED_TCB (raw 64-bit comparison)                         -> KEY_STATUS_INVALID_PARAM
    // KEY_SEL 0 ("VLEK if installed") is the VCEK here, and gives the VCEK's key.
    //
    // SIMULATED: the derivation is ours, not AMD's (whose KDF is not public): the first 32 bytes
    // of HMAC-SHA384 keyed with this chip's secret (made from the platform's VCEK private key:
    // another `cvm sim platform` is another chip and derives other keys, the same platform
    // directory the same keys) over a tag, the root key, VMPL, GUEST_FIELD_SELECT and exactly the
    // selected fields: the launch's POLICY, IMAGE_ID, FAMILY_ID, MEASUREMENT, and the request's
    // GUEST_SVN and TCB_VERSION. Deterministic; Errc::Crypto only when mbedTLS fails.
    Result<KeyResponse> derive_key(const KeyRequest& request, uint32_t caller_vmpl) const;

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
    Secret<48> m_chip_secret;  // derive_key's root, from the VCEK private key
    Bytes m_cert_table;
};

}  // namespace cvm::sim
