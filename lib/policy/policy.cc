#include "policy/policy.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace cvm::policy {

std::optional<uint64_t> platform_info_bit(std::string_view name)
{
    static constexpr std::pair<std::string_view, int> BITS[] = {
        {"smt", 0},
        {"tsme", 1},
        {"ecc", 2},
        {"rapl_disabled", 3},
        {"ciphertext_hiding", 4},
        {"alias_check_complete", 5},
        {"tio", 7},
    };
    for (auto [n, bit] : BITS) {
        if (n == name)
            return uint64_t(1) << bit;
    }
    return std::nullopt;
}

Policy Policy::baseline()
{
    Policy p;
    p.is_baseline = true;
    return p;
}

namespace {

std::string yes_no(bool b)
{
    return b ? "1" : "0";
}

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

template <size_t N>
std::string list_hex(const std::vector<std::array<uint8_t, N>>& values)
{
    std::string out;
    for (const auto& v : values)
        out += (out.empty() ? "" : " | ") + to_hex(v);
    return out;
}

class Claims {
public:
    void add(const char* name, bool pass, std::string found, std::string expected, const char* why = "")
    {
        m_claims.push_back(
            {std::string("policy.") + name, pass, std::move(found), std::move(expected), pass ? "" : why});
    }
    template <size_t N>
    void exact(const char* name, const std::optional<std::array<uint8_t, N>>& want, const std::array<uint8_t, N>& got)
    {
        if (want)
            add(name, *want == got, to_hex(got), to_hex(*want), "value differs");
    }
    std::vector<Claim> take() { return std::move(m_claims); }

private:
    std::vector<Claim> m_claims;
};

void guest_policy(Claims& c, const Policy& p, const snp::GuestPolicy& gp)
{
    c.add("debug", p.allow_debug || !gp.debug(), yes_no(gp.debug()), p.allow_debug ? "0 or 1" : "0",
          "POLICY.DEBUG allows the host to read and change guest memory");
    c.add("migration_agent", p.allow_migration_agent || !gp.migrate_ma(), yes_no(gp.migrate_ma()),
          p.allow_migration_agent ? "0 or 1" : "0", "POLICY.MIGRATE_MA lets a migration agent export the guest");
    if (!p.allow_smt)
        c.add("smt", !gp.smt(), yes_no(gp.smt()), "0", "POLICY.SMT allows sibling threads");
    if (p.require_single_socket)
        c.add("single_socket", gp.single_socket(), yes_no(gp.single_socket()), "1", "POLICY.SINGLE_SOCKET not set");
    if (p.min_abi_major || p.min_abi_minor) {
        bool ok = std::pair(gp.abi_major(), gp.abi_minor()) >= std::pair(p.min_abi_major, p.min_abi_minor);
        c.add("min_abi", ok, num(gp.abi_major()) + "." + num(gp.abi_minor()),
              ">= " + num(p.min_abi_major) + "." + num(p.min_abi_minor), "POLICY.ABI_MAJOR.ABI_MINOR too low");
    }
}

void identity(Claims& c, const Policy& p, const snp::AttestationReport& r)
{
    if (!p.is_baseline) {
        bool ok = std::find(p.measurements.begin(), p.measurements.end(), r.measurement) != p.measurements.end();
        c.add("measurement", ok, to_hex(r.measurement), list_hex(p.measurements), "MEASUREMENT is not allowed");
    }
    c.exact("report_data", p.report_data, r.report_data);
    c.exact("host_data", p.host_data, r.host_data);
    c.exact("family_id", p.family_id, r.family_id);
    c.exact("image_id", p.image_id, r.image_id);
    if (!p.id_key_digests.empty()) {
        bool ok =
            std::find(p.id_key_digests.begin(), p.id_key_digests.end(), r.id_key_digest) != p.id_key_digests.end();
        c.add("id_key_digest", ok, to_hex(r.id_key_digest), list_hex(p.id_key_digests), "ID key is not trusted");
    }
    if (!p.author_key_digests.empty()) {
        bool listed = std::find(p.author_key_digests.begin(), p.author_key_digests.end(), r.author_key_digest) !=
                      p.author_key_digests.end();
        c.add("author_key_digest", r.author_key_en && listed,
              r.author_key_en ? to_hex(r.author_key_digest) : "AUTHOR_KEY_EN=0", list_hex(p.author_key_digests),
              "author key is not trusted");
    }
    if (p.min_guest_svn)
        c.add("guest_svn", r.guest_svn >= p.min_guest_svn, num(r.guest_svn), ">= " + num(p.min_guest_svn),
              "GUEST_SVN too low");
}

void platform(Claims& c, const Policy& p, const snp::AttestationReport& r, snp::Product product)
{
    if (!p.is_baseline)
        c.add("vmpl", r.vmpl <= p.max_vmpl, num(r.vmpl), "<= " + num(p.max_vmpl), "VMPL too high");
    auto min = p.min_tcb.find(product);
    if (min != p.min_tcb.end()) {
        auto reported = snp::TcbVersion::decode(r.reported_tcb, product);
        c.add("min_tcb", reported.at_least(min->second), reported.to_string(product),
              ">= " + min->second.to_string(product), "REPORTED_TCB below the minimum for this product");
    } else if (!p.is_baseline && !p.min_tcb.empty()) {
        c.add("min_tcb", false, std::string(snp::product_name(product)), "a product the policy lists",
              "the policy sets no minimum TCB for this product");
    }
    if (p.required_platform_info) {
        uint64_t have = r.platform_info.raw & p.required_platform_info;
        c.add("platform_info", have == p.required_platform_info, hex64(r.platform_info.raw),
              "bits " + hex64(p.required_platform_info) + " set", "required PLATFORM_INFO bits are clear");
    }
}

}  // namespace

std::vector<Claim> evaluate(const Policy& p, const snp::AttestationReport& r, snp::Product product, Origin origin)
{
    Claims c;
    if (origin == Origin::Simulated)
        c.add("simulated", p.allow_simulated || p.is_baseline, "simulated platform (a caller-trusted root, not AMD)",
              p.allow_simulated || p.is_baseline ? "allowed" : "AMD-rooted evidence (allow_simulated = false)",
              "simulated evidence proves plumbing, never confidentiality");
    guest_policy(c, p, r.policy);
    identity(c, p, r);
    platform(c, p, r, product);
    return c.take();
}

}  // namespace cvm::policy
