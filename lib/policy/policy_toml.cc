// Policy files (TOML): every key, its type and the claim it drives are listed in docs/verify.md,
// section "The policy file". Parsing is strict: an unknown key, a wrong type, malformed hex, a
// bit named in both a require_* and a forbid_* list, and an empty or missing `measurements` list
// fail with Errc::Config naming the key. The value parsers are in policy_toml_values.cc; the
// writer, to_toml(), in policy_write.cc.
#include "policy/policy_toml.h"

#include "policy/toml_values.h"

namespace cvm::policy {

namespace {

using namespace toml_values;

Result<void> apply_guest(Policy& p, const std::string& key, const toml::node& v, bool& known)
{
    known = true;
    if (key == "allow_debug")
        p.allow_debug = TRY(R.boolean(v, key));
    else if (key == "allow_migration_agent")
        p.allow_migration_agent = TRY(R.boolean(v, key));
    else if (key == "allow_smt")
        p.allow_smt = TRY(R.boolean(v, key));
    else if (key == "require_single_socket")
        p.require_single_socket = TRY(R.boolean(v, key));
    else if (key == "require_guest_policy")
        p.required_guest_policy = TRY(bit_list(v, key, guest_policy_bits()));
    else if (key == "forbid_guest_policy")
        p.forbidden_guest_policy = TRY(bit_list(v, key, guest_policy_bits()));
    else if (key == "min_abi")
        std::tie(p.min_abi_major, p.min_abi_minor) = TRY(major_minor(v, key));
    else if (key == "max_vmpl")
        p.max_vmpl = TRY(small(v, key, 3));
    else if (key == "min_guest_svn")
        p.min_guest_svn = TRY(small(v, key, UINT32_MAX));
    else
        known = false;
    return {};
}

Result<void> apply_identity(Policy& p, const std::string& key, const toml::node& v, bool& known)
{
    known = true;
    if (key == "measurements")
        p.measurements = TRY(R.hex_list<48>(v, key));
    else if (key == "report_data")
        p.report_data = TRY(R.hex_array<64>(v, key));
    else if (key == "host_data")
        p.host_data = TRY(R.hex_array<32>(v, key));
    else if (key == "family_id")
        p.family_id = TRY(R.hex_array<16>(v, key));
    else if (key == "image_id")
        p.image_id = TRY(R.hex_array<16>(v, key));
    else if (key == "report_id_ma")
        p.report_id_ma = TRY(R.hex_array<32>(v, key));
    else if (key == "id_key_digests")
        p.id_key_digests = TRY(R.hex_list<48>(v, key));
    else if (key == "author_key_digests")
        p.author_key_digests = TRY(R.hex_list<48>(v, key));
    else if (key == "chip_ids")
        p.chip_ids = TRY(chip_ids(v, key));
    else
        known = false;
    return {};
}

Result<void> apply_platform(Policy& p, const std::string& key, const toml::node& v, bool& known)
{
    known = true;
    if (key == "require_platform_info")
        p.required_platform_info = TRY(bit_list(v, key, platform_info_bits()));
    else if (key == "forbid_platform_info")
        p.forbidden_platform_info = TRY(bit_list(v, key, platform_info_bits()));
    else if (key == "min_report_version")
        p.min_report_version = static_cast<uint32_t>(TRY(R.integer(v, key, 2, 5)));
    else if (key == "min_launch_mit_vector")
        p.min_launch_mit_vector = static_cast<uint64_t>(TRY(R.integer(v, key, 0, INT64_MAX)));
    else if (key == "min_current_mit_vector")
        p.min_current_mit_vector = static_cast<uint64_t>(TRY(R.integer(v, key, 0, INT64_MAX)));
    else if (key == "min_tcb")
        p.min_tcb = TRY(tcb_tables(v, key));
    else if (key == "min_committed_tcb")
        p.min_committed_tcb = TRY(tcb_tables(v, key));
    else if (key == "min_launch_tcb")
        p.min_launch_tcb = TRY(tcb_tables(v, key));
    else if (key == "permit_provisional_firmware")
        p.permit_provisional_firmware = TRY(R.boolean(v, key));
    else if (key == "min_build")
        p.min_build = static_cast<uint8_t>(TRY(R.integer(v, key, 0, 255)));
    else if (key == "min_version")
        p.min_version = TRY(major_minor(v, key));
    else if (key == "allow_simulated")
        p.allow_simulated = TRY(R.boolean(v, key));
    else if (key == "revocation")
        p.revocation = TRY(R.boolean(v, key));
    else
        known = false;
    return {};
}

Result<void> apply(Policy& p, const std::string& key, const toml::node& v)
{
    bool known = false;
    TRY(apply_guest(p, key, v, known));
    if (!known)
        TRY(apply_identity(p, key, v, known));
    if (!known)
        TRY(apply_platform(p, key, v, known));
    if (!known)
        return R.error(key, "unknown key");
    return {};
}

// A bit both required and forbidden can never pass: a configuration error, named by both keys.
Result<void> consistent(const Policy& p)
{
    uint64_t smt = *guest_policy_bit("smt"), single = *guest_policy_bit("single_socket");
    uint64_t forbidden = p.forbidden_guest_policy | (p.allow_smt ? 0 : smt);
    uint64_t required = p.required_guest_policy | (p.require_single_socket ? single : 0);
    if (uint64_t both = required & forbidden)
        return R.error("forbid_guest_policy",
                       ("also required (require_guest_policy, require_single_socket or allow_smt = false): " +
                        describe_bits(both, guest_policy_bits()))
                           .c_str());
    if (uint64_t both = p.required_platform_info & p.forbidden_platform_info)
        return R.error("forbid_platform_info",
                       ("also in require_platform_info: " + describe_bits(both, platform_info_bits())).c_str());
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
            return R.error("policy", "expected a table");
    }
    return parse_policy_table(*table);
}

Result<Policy> parse_policy_table(const toml::table& table)
{
    Policy p;
    for (auto&& [k, v] : table)
        TRY(apply(p, std::string(k.str()), v));
    if (p.measurements.empty())
        return R.error("measurements", "missing: a policy must list the launch measurements it accepts");
    TRY(consistent(p));
    return p;
}

}  // namespace cvm::policy
