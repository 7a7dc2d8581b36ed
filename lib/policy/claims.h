// Internal to the policy layer: the builder evaluate()'s rule groups add their claims to, and the
// display helpers they share. Every rule adds exactly one claim on every evaluation, in the order
// of claim_names(); a rule the policy does not set passes with expected "any".
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/claim.h"
#include "policy/policy.h"

namespace cvm::policy::detail {

inline constexpr const char* ANY = "any";

std::string num(uint64_t v);
std::string hex64(uint64_t v);

class Claims {
public:
    void add(const char* name, bool pass, std::string found, std::string expected, std::string why = "");
    // The rule is not set: passes, found shown, expected "any".
    void any(const char* name, std::string found) { add(name, true, std::move(found), ANY); }

    template <size_t N>
    void exact(const char* name, const std::optional<std::array<uint8_t, N>>& want, const std::array<uint8_t, N>& got)
    {
        if (want)
            add(name, *want == got, to_hex(got), to_hex(*want), "value differs");
        else
            any(name, to_hex(got));
    }

    template <size_t N>
    void one_of(const char* name, const std::vector<std::array<uint8_t, N>>& allowed, const std::array<uint8_t, N>& got,
                const char* why)
    {
        if (allowed.empty())
            return any(name, to_hex(got));
        bool ok = false;
        std::string expected;
        for (const auto& v : allowed) {
            ok = ok || v == got;
            expected += (expected.empty() ? "" : " | ") + to_hex(v);
        }
        add(name, ok, to_hex(got), expected, why);
    }

    std::vector<Claim> take() { return std::move(m_claims); }

private:
    std::vector<Claim> m_claims;
};

// The rule groups of evaluate(), in claim order.
void guest_policy(Claims& c, const Policy& p, const snp::GuestPolicy& gp);
void identity(Claims& c, const Policy& p, const snp::AttestationReport& r);
void platform(Claims& c, const Policy& p, const snp::AttestationReport& r, snp::Product product);
void tcb(Claims& c, const Policy& p, const snp::AttestationReport& r, snp::Product product);

}  // namespace cvm::policy::detail
