#include "kernel-cmdline/deployment.h"

#include <algorithm>
#include <array>

#include "base/toml_reader.h"
#include "kernel-cmdline/resource_list.h"
#include "proto/messages.h"

namespace cvm::cmdline {

namespace {

constexpr const char* CONTEXT = "init-data cvminit.toml";

// Settings a deployment may not carry, each with the place that does: naming one is refused with
// the reason rather than as an unknown key, so the operator learns it is deliberate.
struct MeasuredOnly {
    std::string_view key;
    const char* where;
};
constexpr std::array<MeasuredOnly, 18> MEASURED_ONLY{{
    {"simulate", "cvminit.simulate"},
    {"net", "cvminit.net"},
    {"ip", "cvminit.ip"},
    {"gateway", "cvminit.gateway"},
    {"dns", "cvminit.dns"},
    {"deadline", "cvminit.deadline"},
    {"verity", "cvminit.verity.*"},
    {"data", "cvminit.data"},
    {"data_key", "cvminit.data_key"},
    {"data_mount", "cvminit.data_mount"},
    {"data_key_mode", "cvminit.data_key_mode"},
    {"data_key_policy", "cvminit.data_key_policy"},
    {"reattest_fail", "cvminit.reattest_fail"},
    {"initdata", "cvminit.initdata"},
    {"agent_api", "[agent_api] in /etc/cvminit.toml"},
    {"secrets", "[secrets] in /etc/cvminit.toml (resources go here as 'resources')"},
    {"command", "cvminit.workload or workload.command in /etc/cvminit.toml"},
    // The agent, not the KBS, decides which resource is the volume's key: a host-chosen mapping
    // could put the volume key in /run/secrets, or format a volume under a secret's value.
    {"kbs_paths", "secrets.kbs_paths in /etc/cvminit.toml"},
}};

Error measured_only(const TomlReader& r, std::string_view key, const char* where)
{
    std::string what = std::string("measured-only: set it with ") + where +
                       " (init-data is chosen by the host, so nothing that weakens a check comes from it)";
    return r.error(shown(key), what.c_str());
}

Result<void> only_known(const TomlReader& r, const toml::table& root)
{
    constexpr std::array<std::string_view, 7> ALLOWED{"broker",   "broker_key", "broker_protocol", "transport",
                                                      "reattest", "resources",  "workload"};
    for (auto&& [k, v] : root) {
        std::string_view key = k.str();
        if (std::find(ALLOWED.begin(), ALLOWED.end(), key) != ALLOWED.end())
            continue;
        for (const MeasuredOnly& m : MEASURED_ONLY) {
            if (m.key == key)
                return measured_only(r, key, m.where);
        }
        return r.error(shown(key), "unknown key (docs/initdata.md lists what init-data may set)");
    }
    return {};
}

Result<void> workload_env(const TomlReader& r, const toml::table& root, Deployment& out)
{
    const toml::node* node = root.get("workload");
    if (!node)
        return {};
    const toml::table* workload = node->as_table();
    if (!workload)
        return r.error("workload", "expected a table with only env");
    for (auto&& [k, v] : *workload) {
        std::string key = "workload." + shown(k.str());
        if (k.str() != "env")
            return measured_only(r, key, "[workload] in /etc/cvminit.toml (only workload.env may come from init-data)");
    }
    const toml::table* env = workload->get("env") ? workload->get("env")->as_table() : nullptr;
    if (!env || env->size() > MAX_ENV)
        return r.error("workload.env", "expected a table of at most 256 NAME = \"value\" pairs");
    // toml++ keeps a table's keys sorted, so the list is sorted by name.
    for (auto&& [name, value] : *env) {
        std::string key = "workload.env." + shown(name.str());
        if (!proto::valid_env_name(name.str()))
            return r.error(key, "expected a name of [A-Z_][A-Z0-9_]*, at most 128 characters");
        if (loader_env_name(name.str()))
            return r.error(key, "refused: the dynamic loader or libc acts on it, so it could change the "
                                "measured workload's code; set it in /etc/cvminit.toml if it must be set");
        std::string text = TRY(r.string(value, key));
        if (text.size() > MAX_ARG_OR_VALUE || text.find('\0') != std::string::npos)
            return r.error(key, "expected at most 4096 bytes without NUL");
        out.env.emplace_back(std::string(name.str()), std::move(text));
    }
    return {};
}

}  // namespace

bool loader_env_name(std::string_view name)
{
    // glibc sysdeps/generic/unsecvars.h: UNSECURE_ENVVARS, what the loader erases for set-id
    // programs; every LD_* name in it, and any other LD_*, is covered by the prefix.
    constexpr std::array<std::string_view, 13> LIBC{
        "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES",   "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE",
        "NIS_PATH",   "NLSPATH",     "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR",      "TZDIR"};
    return name.substr(0, 3) == "LD_" || std::find(LIBC.begin(), LIBC.end(), name) != LIBC.end();
}

Result<std::vector<std::string>> read_resource_list(const TomlReader& r, const toml::node& node, const char* key)
{
    const toml::array* names = node.as_array();
    if (!names || names->empty() || names->size() > MAX_RESOURCES)
        return r.error(key, "expected a list of 1 to 64 names");
    std::vector<std::string> out;
    for (const toml::node& n : *names) {
        std::string name = TRY(r.string(n, key));
        if (!proto::valid_resource_name(name))
            return r.error(key, "expected names of A-Z a-z 0-9 _ . - (not starting with '.')");
        if (std::find(out.begin(), out.end(), name) != out.end())
            return r.error(key, "a name is listed twice");
        out.push_back(std::move(name));
    }
    return out;
}

Result<Deployment> parse_deployment(std::string_view text)
{
    if (text.size() > MAX_DEPLOYMENT_TOML_SIZE)
        return Error::make(Errc::Config, "%s: %zu bytes, more than the %zu allowed", CONTEXT, text.size(),
                           MAX_DEPLOYMENT_TOML_SIZE);
    toml::table root = TRY(parse_toml(text, CONTEXT));
    TomlReader r(CONTEXT);
    TRY(only_known(r, root));
    Deployment out;
    if (const toml::node* v = root.get("broker")) {
        std::string value = TRY(r.string(*v, "broker"));
        std::string why;
        auto url = canonical_broker_url(value, why);
        if (!url) {
            std::string what =
                "expected an http:// or https:// URL without a path" + (why.empty() ? "" : " (" + why + ")");
            return r.error("broker", what.c_str());
        }
        out.broker_url = std::move(*url);
    }
    if (const toml::node* v = root.get("broker_key")) {
        auto key = proto::parse_ed25519_public_b64(TRY(r.string(*v, "broker_key")));
        if (!key.ok())
            return r.error("broker_key", "expected the base64 of the broker's 32-byte Ed25519 public key");
        out.broker_key = key.value();
    }
    if (const toml::node* v = root.get("transport")) {
        std::string transport = TRY(r.string(*v, "transport"));
        if (transport != "cvmkb" && transport != "ratls")
            return r.error("transport", "expected \"cvmkb\" or \"ratls\"");
        out.transport = transport == "ratls" ? Transport::Ratls : Transport::Cvmkb;
    }
    if (const toml::node* v = root.get("broker_protocol")) {
        std::string protocol = TRY(r.string(*v, "broker_protocol"));
        if (protocol != "cvmkb" && protocol != "kbs")
            return r.error("broker_protocol", "expected \"cvmkb\" or \"kbs\"");
        out.broker_protocol = protocol == "kbs" ? BrokerProtocol::Kbs : BrokerProtocol::Cvmkb;
    }
    if (const toml::node* v = root.get("reattest"))
        out.reattest_seconds =
            static_cast<uint32_t>(TRY(r.integer(*v, "reattest", MIN_REATTEST_SECONDS, MAX_REATTEST_SECONDS)));
    if (const toml::node* v = root.get("resources"))
        out.resources = TRY(read_resource_list(r, *v, "resources"));
    TRY(workload_env(r, root, out));
    return out;
}

}  // namespace cvm::cmdline
