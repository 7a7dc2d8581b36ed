// evaluate(): the simulated-origin rule and the GUEST_POLICY rules; the other groups are in
// evaluate_identity.cc and evaluate_tcb.cc.
#include <cstdio>

#include "policy/claims.h"
#include "policy/policy.h"

namespace cvm::policy {

namespace detail {

std::string num(uint64_t v)
{
    return std::to_string(v);
}

std::string hex64(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

void Claims::add(const char* name, bool pass, std::string found, std::string expected, std::string why)
{
    m_claims.push_back({std::string("policy.") + name, pass, std::move(found), std::move(expected),
                        pass ? std::string() : std::move(why)});
}

namespace {

const char* bit(bool b)
{
    return b ? "1" : "0";
}

// One named GUEST_POLICY bit: required (expected "1"), forbidden ("0") or not set ("any").
void policy_bit(Claims& c, const char* name, uint64_t raw, bool required, bool forbidden)
{
    uint64_t mask = *guest_policy_bit(name);
    bool set = raw & mask;
    char why[96];
    snprintf(why, sizeof why, "POLICY bit %d (%s) is %s", __builtin_ctzll(mask), name, set ? "set" : "clear");
    if (required)
        c.add(name, set, bit(set), "1", why);
    else if (forbidden)
        c.add(name, !set, bit(set), "0", why);
    else
        c.any(name, bit(set));
}

}  // namespace

void guest_policy(Claims& c, const Policy& p, const snp::GuestPolicy& gp)
{
    c.add("debug", p.allow_debug || !gp.debug(), bit(gp.debug()), p.allow_debug ? ANY : "0",
          "POLICY.DEBUG allows the host to read and change guest memory");
    c.add("migration_agent", p.allow_migration_agent || !gp.migrate_ma(), bit(gp.migrate_ma()),
          p.allow_migration_agent ? ANY : "0", "POLICY.MIGRATE_MA lets a migration agent export the guest");
    for (const NamedBit& b : guest_policy_bits()) {
        bool required = p.required_guest_policy & b.mask, forbidden = p.forbidden_guest_policy & b.mask;
        if (b.name == "smt")
            forbidden = forbidden || !p.allow_smt;
        if (b.name == "single_socket")
            required = required || p.require_single_socket;
        policy_bit(c, b.name.data(), gp.raw, required, forbidden);
    }
    std::string abi = num(gp.abi_major()) + "." + num(gp.abi_minor());
    if (p.min_abi_major || p.min_abi_minor) {
        bool ok = std::pair(gp.abi_major(), gp.abi_minor()) >= std::pair(p.min_abi_major, p.min_abi_minor);
        c.add("min_abi", ok, abi, ">= " + num(p.min_abi_major) + "." + num(p.min_abi_minor),
              "POLICY.ABI_MAJOR.ABI_MINOR too low");
    } else {
        c.any("min_abi", abi);
    }
}

}  // namespace detail

std::vector<Claim> evaluate(const Policy& p, const snp::AttestationReport& r, snp::Product product, Origin origin)
{
    detail::Claims c;
    if (origin == Origin::Simulated) {
        bool ok = p.allow_simulated || p.is_baseline;
        c.add("simulated", ok, "simulated platform (a caller-trusted root, not AMD)",
              ok ? "allowed" : "AMD-rooted evidence (allow_simulated = false)",
              "simulated evidence proves plumbing, never confidentiality");
    } else {
        c.add("simulated", true, "AMD-rooted evidence", p.allow_simulated ? "AMD or simulated" : "AMD-rooted evidence");
    }
    detail::guest_policy(c, p, r.policy);
    detail::identity(c, p, r);
    detail::platform(c, p, r, product);
    detail::tcb(c, p, r, product);
    return c.take();
}

}  // namespace cvm::policy
