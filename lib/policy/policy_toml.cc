// Policy files (TOML). Keys, at the top level or under [policy]:
//
//   measurements = ["<96 hex>", ...]      required, non-empty: the launch digests accepted
//   allow_debug = false                   allow_migration_agent = false
//   allow_smt = true                      require_single_socket = false
//   min_abi = "1.51"                      max_vmpl = 0             min_guest_svn = 0
//   report_data = "<128 hex>"             host_data = "<64 hex>"
//   family_id = "<32 hex>"                image_id = "<32 hex>"
//   id_key_digests = ["<96 hex>"]         author_key_digests = ["<96 hex>"]
//   require_platform_info = ["tsme", "alias_check_complete", ...]
//   allow_simulated = false
//   [min_tcb.Milan] bootloader = 3  tee = 0  snp = 8  microcode = 115   (Turin adds fmc)
#include "policy/policy_toml.h"

#include "base/toml_reader.h"

#include <string>

namespace cvm::policy {

namespace {

const TomlReader R("policy");

Error config(const std::string& key, const char* what)
{
    return R.error(key, what);
}

Result<uint32_t> small(const toml::node& v, const std::string& key, int64_t max)
{
    return static_cast<uint32_t>(TRY(R.integer(v, key, 0, max)));
}

Result<void> min_abi(Policy& p, const toml::node& v, const std::string& key)
{
    auto s = v.value_exact<std::string>();
    unsigned major = 0, minor = 0;
    char tail = 0;
    if (!s || sscanf(s->c_str(), "%u.%u%c", &major, &minor, &tail) != 2 || major > 255 || minor > 255)
        return config(key, "expected \"MAJOR.MINOR\"");
    p.min_abi_major = static_cast<uint8_t>(major);
    p.min_abi_minor = static_cast<uint8_t>(minor);
    return {};
}

Result<snp::TcbVersion> tcb(const toml::node& v, const std::string& key)
{
    const toml::table* t = v.as_table();
    if (!t)
        return config(key, "expected a table of bootloader, tee, snp, microcode (and fmc on Turin)");
    snp::TcbVersion out;
    for (auto&& [k, value] : *t) {
        std::string name = key + "." + std::string(k.str());
        uint8_t component = static_cast<uint8_t>(TRY(small(value, name, 255)));
        if (k == "bootloader")
            out.boot_loader = component;
        else if (k == "tee")
            out.tee = component;
        else if (k == "snp")
            out.snp = component;
        else if (k == "microcode")
            out.microcode = component;
        else if (k == "fmc")
            out.fmc = component;
        else
            return config(name, "unknown TCB component (bootloader, tee, snp, microcode, fmc)");
    }
    return out;
}

Result<void> min_tcbs(Policy& p, const toml::node& v)
{
    const toml::table* t = v.as_table();
    if (!t)
        return config("min_tcb", "expected tables [min_tcb.Milan], [min_tcb.Genoa], [min_tcb.Turin]");
    for (auto&& [k, value] : *t) {
        std::string key = "min_tcb." + std::string(k.str());
        auto product = snp::product_from_name(k.str());
        if (!product || k.str() != snp::product_name(*product))
            return config(key, "unknown product (Milan, Genoa, Turin)");
        p.min_tcb[*product] = TRY(tcb(value, key));
    }
    return {};
}

Result<void> platform_bits(Policy& p, const toml::node& v, const std::string& key)
{
    const toml::array* a = v.as_array();
    if (!a)
        return config(key, "expected a list of names");
    for (const toml::node& item : *a) {
        auto name = item.value_exact<std::string>();
        auto bit = name ? platform_info_bit(*name) : std::nullopt;
        if (!bit)
            return config(key,
                          "unknown bit (smt, tsme, ecc, rapl_disabled, ciphertext_hiding, alias_check_complete, tio)");
        p.required_platform_info |= *bit;
    }
    return {};
}

Result<void> apply(Policy& p, const std::string& key, const toml::node& v)
{
    if (key == "measurements")
        p.measurements = TRY(R.hex_list<48>(v, key));
    else if (key == "allow_debug")
        p.allow_debug = TRY(R.boolean(v, key));
    else if (key == "allow_migration_agent")
        p.allow_migration_agent = TRY(R.boolean(v, key));
    else if (key == "allow_smt")
        p.allow_smt = TRY(R.boolean(v, key));
    else if (key == "require_single_socket")
        p.require_single_socket = TRY(R.boolean(v, key));
    else if (key == "allow_simulated")
        p.allow_simulated = TRY(R.boolean(v, key));
    else if (key == "min_abi")
        TRY(min_abi(p, v, key));
    else if (key == "max_vmpl")
        p.max_vmpl = TRY(small(v, key, 3));
    else if (key == "min_guest_svn")
        p.min_guest_svn = TRY(small(v, key, UINT32_MAX));
    else if (key == "report_data")
        p.report_data = TRY(R.hex_array<64>(v, key));
    else if (key == "host_data")
        p.host_data = TRY(R.hex_array<32>(v, key));
    else if (key == "family_id")
        p.family_id = TRY(R.hex_array<16>(v, key));
    else if (key == "image_id")
        p.image_id = TRY(R.hex_array<16>(v, key));
    else if (key == "id_key_digests")
        p.id_key_digests = TRY(R.hex_list<48>(v, key));
    else if (key == "author_key_digests")
        p.author_key_digests = TRY(R.hex_list<48>(v, key));
    else if (key == "require_platform_info")
        TRY(platform_bits(p, v, key));
    else if (key == "min_tcb")
        TRY(min_tcbs(p, v));
    else
        return config(key, "unknown key");
    return {};
}

}  // namespace

Result<Policy> parse_policy_toml(std::string_view text)
{
    toml::table root = TRY(parse_toml(text, "policy"));
    const toml::table* table = &root;
    if (root.size() == 1 && root.contains("policy")) {
        table = root["policy"].as_table();
        if (!table)
            return config("policy", "expected a table");
    }
    return parse_policy_table(*table);
}

Result<Policy> parse_policy_table(const toml::table& table)
{
    Policy p;
    for (auto&& [k, v] : table)
        TRY(apply(p, std::string(k.str()), v));
    if (p.measurements.empty())
        return config("measurements", "missing: a policy must list the launch measurements it accepts");
    return p;
}

}  // namespace cvm::policy
