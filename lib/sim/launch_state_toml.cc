// launch_state_toml / parse_launch_state_toml (fw_cfg.h): the `launch` fw_cfg blob.
#include <cstdio>

#include "base/toml_reader.h"
#include "sim/fw_cfg.h"

namespace cvm::sim {

namespace {

std::string hex_number(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace

std::string launch_state_toml(const LaunchState& l)
{
    std::string t = "# cvminit SIMULATED platform: launch state for the simulated PSP (not AMD)\n";
    t += "measurement = \"" + to_hex(l.measurement) + "\"\n";
    t += "policy = " + hex_number(l.policy) + "\n";
    t += "host_data = \"" + to_hex(l.host_data) + "\"\n";
    t += "family_id = \"" + to_hex(l.family_id) + "\"\n";
    t += "image_id = \"" + to_hex(l.image_id) + "\"\n";
    t += "guest_svn = " + std::to_string(l.guest_svn) + "\n";
    t += "platform_info = " + hex_number(l.platform_info) + "\n";
    t += "id_key_digest = \"" + to_hex(l.id_key_digest) + "\"\n";
    t += "author_key_digest = \"" + to_hex(l.author_key_digest) + "\"\n";
    return t;
}

Result<LaunchState> parse_launch_state_toml(std::string_view text, const char* context)
{
    const TomlReader R(context);
    toml::table t = TRY(parse_toml(text, context));
    TRY(R.only_keys(t, "",
                    {"measurement", "policy", "host_data", "family_id", "image_id", "guest_svn", "platform_info",
                     "id_key_digest", "author_key_digest"}));
    auto get = [&](const char* key) { return R.required(t, key, ""); };
    LaunchState l;
    l.measurement = TRY(R.hex_array<48>(*TRY(get("measurement")), "measurement"));
    l.policy = static_cast<uint64_t>(TRY(R.integer(*TRY(get("policy")), "policy", 0, INT64_MAX)));
    l.host_data = TRY(R.hex_array<32>(*TRY(get("host_data")), "host_data"));
    l.family_id = TRY(R.hex_array<16>(*TRY(get("family_id")), "family_id"));
    l.image_id = TRY(R.hex_array<16>(*TRY(get("image_id")), "image_id"));
    l.guest_svn = static_cast<uint32_t>(TRY(R.integer(*TRY(get("guest_svn")), "guest_svn", 0, UINT32_MAX)));
    l.platform_info = static_cast<uint64_t>(TRY(R.integer(*TRY(get("platform_info")), "platform_info", 0, INT64_MAX)));
    l.id_key_digest = TRY(R.hex_array<48>(*TRY(get("id_key_digest")), "id_key_digest"));
    l.author_key_digest = TRY(R.hex_array<48>(*TRY(get("author_key_digest")), "author_key_digest"));
    return l;
}

}  // namespace cvm::sim
