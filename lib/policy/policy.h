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

// PLATFORM_INFO bits a policy can require, by name: "smt", "tsme", "ecc", "rapl_disabled",
// "ciphertext_hiding", "alias_check_complete", "tio".
std::optional<uint64_t> platform_info_bit(std::string_view name);

struct Policy {
    // GUEST_POLICY
    bool allow_debug{false};
    bool allow_migration_agent{false};
    bool allow_smt{true};
    bool require_single_socket{false};
    uint8_t min_abi_major{0};
    uint8_t min_abi_minor{0};

    uint32_t max_vmpl{0};
    uint32_t min_guest_svn{0};

    // REPORTED_TCB must be at least this, per product (component-wise).
    std::map<snp::Product, snp::TcbVersion> min_tcb;

    std::vector<Measurement> measurements;  // allow-list; empty only in the baseline policy
    std::optional<std::array<uint8_t, 64>> report_data;
    std::optional<std::array<uint8_t, 32>> host_data;
    std::optional<std::array<uint8_t, 16>> family_id;
    std::optional<std::array<uint8_t, 16>> image_id;
    std::vector<KeyDigest> id_key_digests;      // when set, ID_KEY_DIGEST must be one of them
    std::vector<KeyDigest> author_key_digests;  // when set, AUTHOR_KEY_EN and a listed digest
    uint64_t required_platform_info{0};

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
};

// The policy as a policy file that parse_policy_toml() reads back to an equal policy (every key,
// commented); what `cvm verify --print-policy strict` prints. An empty measurement list is
// written as a placeholder line the parser refuses until an operator fills it in.
std::string to_toml(const Policy& policy);

// Parses a policy from TOML text (the keys of `[policy]` or a whole policy file; see
// docs in policy_toml.cc). Unknown keys, wrong types, malformed hex and an empty or missing
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
