// Policy: the values a verifier expects of authentic evidence, and their evaluation into claims.
//
// This layer does no cryptography and no I/O: it compares the fields of a report whose
// authenticity the verify layer already established against expected values, and names every
// violation (field, value found, value expected). Defaults are the strict choice; a policy file
// loosens them explicitly. A policy that is given at all must name the measurements it accepts:
// an empty allow-list is a configuration error, never "accept anything".
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/claim.h"
#include "base/result.h"
#include "snp/report.h"

namespace cvm::policy {

using Measurement = std::array<uint8_t, 48>;
using KeyDigest = std::array<uint8_t, 48>;

// PLATFORM_INFO bits a policy can require or forbid, by name: "smt", "tsme", "ecc",
// "rapl_disabled", "ciphertext_hiding", "alias_check_complete", "tio" (56860 Table 24).
std::optional<uint64_t> platform_info_bit(std::string_view name);

// GUEST_POLICY bits a policy can require or forbid, by name: "smt", "single_socket", "cxl_allow",
// "mem_aes_256_xts", "rapl_dis", "ciphertext_hiding", "page_swap_disable" (56860 Table 9).
std::optional<uint64_t> guest_policy_bit(std::string_view name);

// The names above, in bit order, each with its mask.
struct NamedBit {
    std::string_view name;
    uint64_t mask;
};
const std::vector<NamedBit>& platform_info_bits();
const std::vector<NamedBit>& guest_policy_bits();

// "0x67 (smt tsme ecc alias_check_complete, undefined bit 6)": every set bit by name, and every
// bit no name covers as "undefined bit N", so nothing a report carries goes unreported.
std::string describe_bits(uint64_t raw, const std::vector<NamedBit>& names);

using ChipId = std::array<uint8_t, 64>;

// Every rule has a claim "policy.<name>" that is present on every evaluation (claim_names()); a
// rule a policy does not set passes with expected "any". The TOML key of each field, and the
// claim it drives, are listed in docs/verify.md, "The policy file".
struct Policy {
    // GUEST_POLICY
    bool allow_debug{false};
    bool allow_migration_agent{false};
    bool allow_smt{true};               // false is the same as forbidding "smt"
    bool require_single_socket{false};  // true is the same as requiring "single_socket"
    uint64_t required_guest_policy{0};  // masks of guest_policy_bit(); never overlapping
    uint64_t forbidden_guest_policy{0};
    uint8_t min_abi_major{0};
    uint8_t min_abi_minor{0};

    uint32_t max_vmpl{0};
    uint32_t min_guest_svn{0};

    // TCB, per product (component-wise, in the product's TCB layout): REPORTED_TCB, COMMITTED_TCB
    // and LAUNCH_TCB must be at least these. A policy that sets minimums for some products fails
    // evidence of a product it does not list.
    std::map<snp::Product, snp::TcbVersion> min_tcb;
    std::map<snp::Product, snp::TcbVersion> min_committed_tcb;
    std::map<snp::Product, snp::TcbVersion> min_launch_tcb;
    // COMMITTED_TCB and the committed firmware version equal the current ones, unless this is
    // set: then they may be lower (firmware installed but not yet committed, which can still be
    // rolled back). REPORTED_TCB <= CURRENT_TCB always.
    bool permit_provisional_firmware{false};
    std::optional<uint8_t> min_build;                        // CURRENT_BUILD
    std::optional<std::pair<uint8_t, uint8_t>> min_version;  // CURRENT_MAJOR.CURRENT_MINOR

    // Report VERSION and its fields: a minimum VERSION (2..5); v5 mitigation vectors in which
    // every bit given must be set (a report below v5 fails a non-zero minimum).
    uint32_t min_report_version{2};
    uint64_t min_launch_mit_vector{0};
    uint64_t min_current_mit_vector{0};

    std::vector<Measurement> measurements;  // allow-list; empty only in the baseline policy
    std::optional<std::array<uint8_t, 64>> report_data;
    std::optional<std::array<uint8_t, 32>> host_data;
    std::optional<std::array<uint8_t, 16>> family_id;
    std::optional<std::array<uint8_t, 16>> image_id;
    std::optional<std::array<uint8_t, 32>> report_id_ma;
    std::vector<KeyDigest> id_key_digests;      // when set, ID_KEY_DIGEST must be one of them
    std::vector<KeyDigest> author_key_digests;  // when set, AUTHOR_KEY_EN and a listed digest
    std::vector<ChipId> chip_ids;               // when set, CHIP_ID must be one (never all zero)
    uint64_t required_platform_info{0};         // masks of platform_info_bit(); never overlapping
    uint64_t forbidden_platform_info{0};

    // Accept evidence from the simulated platform (development and CI only).
    bool allow_simulated{false};

    // Check the chain against AMD's CRLs (verify layer, claim chain.revocation). Turning it off
    // is explicit (`revocation = false`) and shows in the claim.
    bool revocation{true};

    // The policy `cvm verify` applies without a policy file: authenticity plus no debug and no
    // migration agent; no measurement or VMPL expectations.
    static Policy baseline();
    bool is_baseline{false};

    // The recommended production profile (docs/verify.md): no debug, no migration agent,
    // alias check complete, committed TCB = current TCB, revocation on, SMT as `allow_smt` says
    // (the operator's call). Measurements are left empty for the caller to fill.
    static Policy strict(bool allow_smt);

    bool operator==(const Policy&) const = default;
};

// The policy as a policy file that parse_policy_toml() reads back to an equal policy (every key,
// commented); what `cvm verify --print-policy strict` prints. An empty measurement list is
// written as a placeholder line the parser refuses until an operator fills it in.
std::string to_toml(const Policy& policy);

// Parses a policy from TOML text (the keys of `[policy]` or a whole policy file; see
// docs/verify.md, "The policy file"). Unknown keys, wrong types, malformed hex and an empty or missing
// `measurements` list fail with Errc::Config naming the key.
Result<Policy> parse_policy_toml(std::string_view text);

// Where the evidence's chain is rooted, as the verify layer established it: one of AMD's pinned
// ARKs, or a root the caller trusted explicitly (the simulated platform of `cvm sim`).
enum class Origin : uint8_t { Amd, Simulated };

// Compares the report against the policy. `product` is the product line the verify layer
// established. Returns one claim per check, named "policy.<field>". Simulated evidence adds the
// claim "policy.simulated", which passes only when the policy allows it (the baseline policy,
// used when a caller trusts a root on the command line without a policy file, does).
std::vector<Claim> evaluate(const Policy& policy, const snp::AttestationReport& report, snp::Product product,
                            Origin origin = Origin::Amd);

// Every claim name evaluate() produces. It produces each of them on every call, in this order: a
// rule the policy does not set passes with expected "any"; policy.simulated passes for AMD-rooted
// evidence.
const std::vector<std::string_view>& claim_names();

// Every claim of claim_names(), failing with found "not checked" and detail `why`: the outcome
// when the report or its product line could not be established.
std::vector<Claim> not_evaluated(std::string_view why);

}  // namespace cvm::policy
