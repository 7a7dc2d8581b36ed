#include "sim_launch.h"

#include "launch_plan.h"
#include "measure/launch_toml.h"
#include "measure_request.h"

namespace cvm::cli {

namespace {

template <size_t N>
Result<std::array<uint8_t, N>> hex_flag(const Args& args, const char* name, std::array<uint8_t, N> fallback)
{
    auto text = args.get(name);
    if (!text)
        return fallback;
    auto bytes = from_hex(*text);
    if (!bytes || bytes->size() != N)
        return Error::make(Errc::Config, "--%s: expected %zu hex digits (%zu bytes)", name, 2 * N, N);
    std::array<uint8_t, N> out;
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

// A flag for a report field that launch.toml sets too: one source of truth, so refused.
Result<void> refuse_if_set(const Args& args, const char* flag, bool set_in_launch, const char* key)
{
    if (args.has(flag) && set_in_launch)
        return Error::make(Errc::Config, "--%s: the launch.toml of --launch sets '%s'; give it in one place", flag,
                           key);
    return {};
}

Result<std::array<uint8_t, 48>> measure_config(const launch::LaunchConfig& config, const std::string& path)
{
    MeasureRequest request = TRY_PREFIX(request_from_config(config), "%s", path.c_str());
    measure::Measurement m = TRY_PREFIX(measure::measure(request.inputs), "%s", path.c_str());
    if (m.mode != measure::Mode::Snp && m.mode != measure::Mode::SnpSvsm)
        return Error::make(Errc::Config, "--launch %s: mode %s has no SEV-SNP MEASUREMENT (snp or snp:svsm)",
                           path.c_str(), measure::mode_name(m.mode));
    std::array<uint8_t, 48> out;
    std::copy(m.digest.begin(), m.digest.end(), out.begin());
    return out;
}

}  // namespace

Result<std::array<uint8_t, 48>> measure_launch(const std::string& path)
{
    return measure_config(TRY(launch::load_launch_toml(path)), path);
}

const std::vector<FlagSpec>& sim_launch_flags()
{
    static const std::vector<FlagSpec> FLAGS = {
        {"measurement", Takes::Value}, {"launch", Takes::Value},        {"policy", Takes::Value},
        {"host-data", Takes::Value},   {"family-id", Takes::Value},     {"image-id", Takes::Value},
        {"guest-svn", Takes::Value},   {"platform-info", Takes::Value},
    };
    return FLAGS;
}

Result<sim::LaunchState> launch_state_from_flags(const Args& args)
{
    sim::LaunchState l;
    if (args.has("measurement") == args.has("launch"))
        return Error::make(Errc::Config, "needs exactly one of --measurement HEX and --launch launch.toml");
    if (auto path = args.get("launch")) {
        // launch.toml's report fields, as `cvm launch` passes them to QEMU; a flag may only add
        // what the file leaves unset.
        launch::LaunchConfig config = TRY(launch::load_launch_toml(*path));
        // The ID block is signed for launch.toml's policy (its default too): another --policy
        // would pair it with a policy SNP_LAUNCH_FINISH refuses.
        TRY(refuse_if_set(args, "policy", config.policy.has_value() || config.id_block.has_value(),
                          config.id_block ? "[id_block] (signed for launch.toml's policy)" : "policy"));
        TRY(refuse_if_set(args, "host-data", config.host_data.has_value(), "host_data"));
        for (const char* flag : {"family-id", "image-id", "guest-svn"})
            TRY(refuse_if_set(args, flag, config.id_block.has_value(), "[id_block]"));
        auto measurement = TRY(measure_config(config, *path));
        auto id_block = TRY_PREFIX(sign_launch_id_block(config, measurement), "%s", path->c_str());
        l = sim_launch_state(config, measurement, id_block);
    } else {
        l.measurement = TRY(hex_flag<48>(args, "measurement", {}));
    }
    if (auto policy = args.get("policy"))
        l.policy = TRY(parse_number(*policy, UINT64_MAX, "--policy"));
    l.host_data = TRY(hex_flag<32>(args, "host-data", l.host_data));
    l.family_id = TRY(hex_flag<16>(args, "family-id", l.family_id));
    l.image_id = TRY(hex_flag<16>(args, "image-id", l.image_id));
    if (auto svn = args.get("guest-svn"))
        l.guest_svn = static_cast<uint32_t>(TRY(parse_number(*svn, UINT32_MAX, "--guest-svn")));
    if (auto info = args.get("platform-info"))
        l.platform_info = TRY(parse_number(*info, INT64_MAX, "--platform-info"));
    return l;
}

}  // namespace cvm::cli
