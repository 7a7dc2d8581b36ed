// to_toml(): a policy as a policy file with every key, each with a comment, that
// parse_policy_toml() reads back to an equal policy. Keys a policy does not set are written
// commented out with an example value; the order and wording follow docs/verify.md.
#include <cstdio>

#include "policy/claims.h"
#include "policy/policy.h"

namespace cvm::policy {

namespace {

using detail::hex64;
using detail::num;

class Writer {
public:
    void comment(const char* text) { m_out += std::string("\n# ") + text + "\n"; }
    void key(const char* name, const std::string& value) { m_out += std::string(name) + " = " + value + "\n"; }
    void unset(const char* name, const char* example) { m_out += std::string("# ") + name + " = " + example + "\n"; }
    void raw(const std::string& text) { m_out += text; }
    std::string take() { return std::move(m_out); }

private:
    std::string m_out;
};

std::string boolean(bool b)
{
    return b ? "true" : "false";
}

std::string quoted(const std::string& s)
{
    return "\"" + s + "\"";
}

template <size_t N>
std::string hex_list(const std::vector<std::array<uint8_t, N>>& values)
{
    std::string out;
    for (const auto& v : values)
        out += (out.empty() ? "" : ",\n    ") + quoted(to_hex(v));
    return values.size() > 1 ? "[\n    " + out + ",\n]" : "[" + out + "]";
}

std::string bit_names(uint64_t mask, const std::vector<NamedBit>& names)
{
    std::string out;
    for (const NamedBit& b : names) {
        if (mask & b.mask)
            out += (out.empty() ? "" : ", ") + quoted(std::string(b.name));
    }
    return "[" + out + "]";
}

template <size_t N>
void optional_hex(Writer& w, const char* name, const std::optional<std::array<uint8_t, N>>& v)
{
    if (v)
        w.key(name, quoted(to_hex(*v)));
    else
        w.unset(name, quoted(std::string(2 * N, '0')).c_str());
}

template <size_t N>
void list_hex(Writer& w, const char* name, const std::vector<std::array<uint8_t, N>>& v)
{
    if (!v.empty())
        w.key(name, hex_list(v));
    else
        w.unset(name, ("[" + quoted(std::string(2 * N, '0')) + "]").c_str());
}

void tcb_tables(Writer& w, const char* key, const char* what, const std::map<snp::Product, snp::TcbVersion>& mins)
{
    w.comment(what);
    if (mins.empty())
        w.raw(std::string("# [") + key + ".Milan]\n# bootloader = 0\n# tee = 0\n# snp = 0\n# microcode = 0\n");
    for (const auto& [product, t] : mins) {
        w.raw(std::string("[") + key + "." + std::string(snp::product_name(product)) + "]\n");
        if (product == snp::Product::Turin)
            w.key("fmc", num(t.fmc));
        w.key("bootloader", num(t.boot_loader));
        w.key("tee", num(t.tee));
        w.key("snp", num(t.snp));
        w.key("microcode", num(t.microcode));
    }
}

}  // namespace

std::string to_toml(const Policy& p)
{
    Writer w;
    w.raw("# cvm verify policy file: every key, described in docs/verify.md, \"The policy file\".\n"
          "# A key written as a comment is not set: its rule passes with expected \"any\".\n");
    w.comment("Launch MEASUREMENTs accepted (SHA-384, 96 hex digits each): required, at least one.");
    w.key("measurements", p.measurements.empty() ? "[\"<the launch MEASUREMENT to accept: 96 hex digits>\"]"
                                                 : hex_list(p.measurements));
    w.comment("GUEST_POLICY: debug and migration agent, the named bits required or forbidden, ABI.");
    w.key("allow_debug", boolean(p.allow_debug));
    w.key("allow_migration_agent", boolean(p.allow_migration_agent));
    w.key("allow_smt", boolean(p.allow_smt));
    w.key("require_single_socket", boolean(p.require_single_socket));
    w.raw("# smt, single_socket, cxl_allow, mem_aes_256_xts, rapl_dis, ciphertext_hiding, page_swap_disable\n");
    w.key("require_guest_policy", bit_names(p.required_guest_policy, guest_policy_bits()));
    w.key("forbid_guest_policy", bit_names(p.forbidden_guest_policy, guest_policy_bits()));
    w.key("min_abi", quoted(num(p.min_abi_major) + "." + num(p.min_abi_minor)));
    w.comment("Identity: exact values, allow-lists of digests and chips, minimum GUEST_SVN, VMPL.");
    optional_hex(w, "report_data", p.report_data);
    optional_hex(w, "host_data", p.host_data);
    optional_hex(w, "family_id", p.family_id);
    optional_hex(w, "image_id", p.image_id);
    optional_hex(w, "report_id_ma", p.report_id_ma);
    list_hex(w, "id_key_digests", p.id_key_digests);
    list_hex(w, "author_key_digests", p.author_key_digests);
    list_hex(w, "chip_ids", p.chip_ids);
    w.key("min_guest_svn", num(p.min_guest_svn));
    w.key("max_vmpl", num(p.max_vmpl));
    w.comment("Platform: report VERSION, v5 mitigation vectors, PLATFORM_INFO bits required or forbidden\n"
              "# (smt, tsme, ecc, rapl_disabled, ciphertext_hiding, alias_check_complete, tio).");
    w.key("min_report_version", num(p.min_report_version));
    w.key("min_launch_mit_vector", hex64(p.min_launch_mit_vector));
    w.key("min_current_mit_vector", hex64(p.min_current_mit_vector));
    w.key("require_platform_info", bit_names(p.required_platform_info, platform_info_bits()));
    w.key("forbid_platform_info", bit_names(p.forbidden_platform_info, platform_info_bits()));
    w.comment("Firmware: COMMITTED = CURRENT unless provisional firmware is permitted; minimums.");
    w.key("permit_provisional_firmware", boolean(p.permit_provisional_firmware));
    if (p.min_build)
        w.key("min_build", num(*p.min_build));
    else
        w.unset("min_build", "0");
    if (p.min_version)
        w.key("min_version", quoted(num(p.min_version->first) + "." + num(p.min_version->second)));
    else
        w.unset("min_version", "\"1.55\"");
    w.comment("Chain: AMD's CRLs checked (claim chain.revocation); simulated evidence accepted.");
    w.key("revocation", boolean(p.revocation));
    w.key("allow_simulated", boolean(p.allow_simulated));
    tcb_tables(w, "min_tcb", "Minimum REPORTED_TCB per product (Turin adds fmc).", p.min_tcb);
    tcb_tables(w, "min_committed_tcb", "Minimum COMMITTED_TCB per product.", p.min_committed_tcb);
    tcb_tables(w, "min_launch_tcb", "Minimum LAUNCH_TCB per product.", p.min_launch_tcb);
    return w.take();
}

}  // namespace cvm::policy
