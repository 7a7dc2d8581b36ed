#include "kernel-cmdline/agent_config.h"

#include <algorithm>
#include <cerrno>
#include <iterator>

#include "base/file.h"
#include "base/toml_reader.h"
#include "kernel-cmdline/deployment.h"
#include "kernel-cmdline/resource_list.h"
#include "proto/messages.h"

namespace cvm::cmdline {

namespace {

constexpr const char* CONTEXT = "cvminit.toml";

// TomlReader::only_keys() quotes a key as written; TOML lets a quoted key hold any character,
// and this message goes to the VM's console, so the name is shown sanitized.
Result<void> only_keys(const TomlReader& r, const toml::table& table, std::string_view prefix,
                       std::initializer_list<std::string_view> allowed)
{
    for (auto&& [k, v] : table) {
        if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end())
            return r.error(shown(TomlReader::join(prefix, k.str())), "unknown key");
    }
    return {};
}

Result<const toml::table*> section(const TomlReader& r, const toml::table& root, std::string_view name)
{
    const toml::node* node = root.get(name);
    if (node && !node->is_table())
        return r.error(name, "expected a table");
    return node ? node->as_table() : nullptr;
}

// A string of at most MAX_ARG_OR_VALUE bytes without NUL: it becomes a C string in execve().
Result<std::string> c_string(const TomlReader& r, const toml::node& v, std::string_view key)
{
    std::string s = TRY(r.string(v, key));
    if (s.size() > MAX_ARG_OR_VALUE || s.find('\0') != std::string::npos)
        return r.error(key, "expected at most 4096 bytes without NUL");
    return s;
}

Result<void> workload(const TomlReader& r, const toml::table& t, AgentFileConfig& out)
{
    TRY(only_keys(r, t, "workload", {"command", "root", "env", "user", "group", "isolation"}));
    if (const toml::node* v = t.get("user"))
        out.user = static_cast<uint32_t>(TRY(r.integer(*v, "workload.user", 0, MAX_ID)));
    if (const toml::node* v = t.get("group"))
        out.group = static_cast<uint32_t>(TRY(r.integer(*v, "workload.group", 0, MAX_ID)));
    if (const toml::node* v = t.get("isolation")) {
        std::string isolation = TRY(r.string(*v, "workload.isolation"));
        if (isolation != "strict" && isolation != "off")
            return r.error("workload.isolation", "expected \"strict\" or \"off\"");
        out.isolation = isolation == "off" ? Isolation::Off : Isolation::Strict;
    }
    if (const toml::node* v = t.get("command")) {
        const toml::array* argv = v->as_array();
        if (!argv || argv->empty() || argv->size() > MAX_ARGV)
            return r.error("workload.command", "expected a list of 1 to 256 strings (the program and its arguments)");
        for (const toml::node& arg : *argv)
            out.command.push_back(TRY(c_string(r, arg, "workload.command")));
        if (!valid_absolute_path(out.command[0]))
            return r.error("workload.command",
                           "expected an absolute path as the first element (the program in the workload root)");
    }
    if (const toml::node* v = t.get("root")) {
        out.root = TRY(r.string(*v, "workload.root"));
        if (!valid_absolute_path(out.root))
            return r.error("workload.root", "expected an absolute path other than / without '.', '..' or spaces");
    }
    if (const toml::node* v = t.get("env")) {
        const toml::table* env = v->as_table();
        if (!env || env->size() > MAX_ENV)
            return r.error("workload.env", "expected a table of at most 256 NAME = \"value\" pairs");
        // toml++ keeps a table's keys sorted, so the order is the same on every build.
        for (auto&& [name, value] : *env) {
            std::string key = "workload.env." + shown(name.str());
            if (!proto::valid_env_name(name.str()))
                return r.error(key, "expected a name of [A-Z_][A-Z0-9_]*, at most 128 characters");
            out.env.emplace_back(std::string(name.str()), TRY(c_string(r, value, key)));
        }
    }
    return {};
}

// secrets.kbs_paths: a table of 1 to MAX_RESOURCES name = "repository/type/tag" entries
// (proto::valid_resource_name, proto::valid_kbs_path), sorted by name.
Result<KbsPaths> read_kbs_paths(const TomlReader& r, const toml::node& node, const char* key)
{
    const toml::table* table = node.as_table();
    if (!table || table->empty() || table->size() > MAX_RESOURCES)
        return r.error(key, "expected a table of 1 to 64 name = \"repository/type/tag\" pairs");
    KbsPaths out;
    for (auto&& [name, value] : *table) {  // toml++ keeps keys sorted: so is the list
        std::string entry = std::string(key) + "." + shown(name.str());
        if (!proto::valid_resource_name(name.str()))
            return r.error(entry, "expected a resource name of A-Z a-z 0-9 _ . - (not starting with '.')");
        std::string path = TRY(r.string(value, entry));
        if (!proto::valid_kbs_path(path))
            return r.error(entry, "expected a KBS resource path repository/type/tag, each of A-Z a-z 0-9 _ . -");
        out.emplace_back(std::string(name.str()), std::move(path));
    }
    return out;
}

Result<void> secrets(const TomlReader& r, const toml::table& t, AgentFileConfig& out)
{
    TRY(only_keys(r, t, "secrets", {"dir", "resources", "kbs_paths"}));
    if (const toml::node* v = t.get("dir")) {
        out.secrets_dir = TRY(r.string(*v, "secrets.dir"));
        // /run is the agent's own tmpfs: secrets written there never reach a disk.
        if (!valid_absolute_path(out.secrets_dir) || !is_below(out.secrets_dir, "/run"))
            return r.error("secrets.dir", "expected an absolute path below /run without '.', '..' or spaces");
    }
    if (const toml::node* v = t.get("resources"))
        out.resources = TRY(read_resource_list(r, *v, "secrets.resources"));
    if (const toml::node* v = t.get("kbs_paths"))
        out.kbs_paths = TRY(read_kbs_paths(r, *v, "secrets.kbs_paths"));
    return {};
}

Result<void> agent_api(const TomlReader& r, const toml::table& t, AgentFileConfig& out)
{
    TRY(only_keys(r, t, "agent_api", {"enabled", "group"}));
    if (const toml::node* v = t.get("enabled"))
        out.api_enabled = TRY(r.boolean(*v, "agent_api.enabled"));
    if (const toml::node* v = t.get("group"))
        out.api_group = static_cast<uint32_t>(TRY(r.integer(*v, "agent_api.group", 0, MAX_ID)));
    return {};
}

}  // namespace

Result<AgentFileConfig> parse_agent_toml(std::string_view text)
{
    if (text.size() > MAX_AGENT_TOML_SIZE)
        return Error::make(Errc::Config, "%s: %zu bytes, more than the %zu allowed", CONTEXT, text.size(),
                           MAX_AGENT_TOML_SIZE);
    toml::table root = TRY(parse_toml(text, CONTEXT));
    TomlReader r(CONTEXT);
    TRY(only_keys(r, root, "", {"workload", "secrets", "agent_api"}));
    AgentFileConfig out;
    if (const toml::table* t = TRY(section(r, root, "workload")))
        TRY(workload(r, *t, out));
    if (const toml::table* t = TRY(section(r, root, "secrets")))
        TRY(secrets(r, *t, out));
    if (const toml::table* t = TRY(section(r, root, "agent_api")))
        TRY(agent_api(r, *t, out));
    return out;
}

Result<AgentFileConfig> load_agent_toml(const std::string& path)
{
    auto text = read_text_file(path, MAX_AGENT_TOML_SIZE);
    if (!text.ok() && text.error().code() == Errc::Io && text.error().errno_value() == ENOENT)
        return AgentFileConfig{};
    if (!text.ok())
        return text.release_error();
    return TRY_PREFIX(parse_agent_toml(text.value()), "%s", path.c_str());
}

namespace {

// A setting that the command line (or cvminit.toml) and init-data may both carry: at most one.
Result<void> at_most_one(const char* setting, bool measured, const char* measured_name, bool deployed,
                         const char* deployed_name)
{
    if (measured && deployed)
        return Error::make(Errc::Config, "%s: set both by %s and by %s in init-data's cvminit.toml; keep exactly one",
                           setting, measured_name, deployed_name);
    return {};
}

// Both lists are sorted by name (toml++ tables are); the result is too.
Result<EnvList> merge_env(const EnvList& measured, const EnvList& deployed)
{
    EnvList out;
    std::merge(measured.begin(), measured.end(), deployed.begin(), deployed.end(), std::back_inserter(out),
               [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < out.size(); ++i) {
        if (out[i].first == out[i - 1].first)
            return Error::make(Errc::Config,
                               "workload.env.%s: set both in /etc/cvminit.toml and in init-data's cvminit.toml; keep "
                               "exactly one",
                               out[i].first.c_str());
    }
    if (out.size() > MAX_ENV)
        return Error::make(Errc::Config,
                           "workload.env: %zu entries from /etc/cvminit.toml and init-data, more than %zu", out.size(),
                           MAX_ENV);
    return out;
}

// The settings init-data may carry, from whichever one place gave each.
Result<void> merge_deployment(const AgentCmdline& cmdline, const AgentFileConfig& file, const Deployment& d,
                              AgentConfig& out)
{
    TRY(at_most_one("broker", !cmdline.broker_url.empty(), "cvminit.broker on the command line", !d.broker_url.empty(),
                    "broker"));
    TRY(at_most_one("broker_key", cmdline.broker_key.has_value(), "cvminit.broker_key on the command line",
                    d.broker_key.has_value(), "broker_key"));
    TRY(at_most_one("transport", cmdline.transport.has_value(), "cvminit.transport on the command line",
                    d.transport.has_value(), "transport"));
    TRY(at_most_one("broker_protocol", cmdline.broker_protocol.has_value(),
                    "cvminit.broker_protocol on the command line", d.broker_protocol.has_value(), "broker_protocol"));
    TRY(at_most_one("reattest", cmdline.reattest_seconds != 0, "cvminit.reattest on the command line",
                    d.reattest_seconds != 0, "reattest"));
    TRY(at_most_one("resources", !cmdline.resources.empty(), "cvminit.resources on the command line",
                    !d.resources.empty(), "resources"));
    TRY(at_most_one("resources", !file.resources.empty(), "secrets.resources in /etc/cvminit.toml",
                    !d.resources.empty(), "resources"));
    if (!d.broker_url.empty())
        out.broker_url = d.broker_url;
    if (d.broker_key)
        out.broker_key = *d.broker_key;
    if (d.transport)
        out.transport = *d.transport;
    if (d.broker_protocol)
        out.broker_protocol = *d.broker_protocol;
    if (d.reattest_seconds != 0)
        out.reattest_seconds = d.reattest_seconds;
    if (!d.resources.empty())
        out.resources = d.resources;
    out.workload_env = TRY(merge_env(file.env, d.env));
    return {};
}

// The rules of broker_protocol = kbs (agent_config.h), and every resource's KBS path. `complete`:
// no init-data document is still to come (which could name the protocol or the resources).
Result<void> check_kbs(const AgentCmdline& cmdline, bool complete, AgentConfig& out)
{
    if (out.broker_protocol == BrokerProtocol::Cvmkb) {
        if (complete && !out.kbs_paths.empty())
            return Error::make(Errc::Config,
                               "kbs_paths: %zu paths given, but the broker protocol is cvmkb; they "
                               "are only for broker_protocol kbs",
                               out.kbs_paths.size());
        return {};
    }
    if (auto c = kbs_conflict(out.broker_url, out.broker_key != proto::Ed25519PublicKey{}, out.simulate, out.transport,
                              out.reattest_seconds, cmdline.data && cmdline.data->key_mode == DataKeyMode::Hybrid))
        return Error::make(Errc::Config, "%s: not with broker_protocol kbs: %s", c->setting, c->why);
    for (const auto& [name, path] : out.kbs_paths) {
        if (complete && std::find(out.resources.begin(), out.resources.end(), name) == out.resources.end())
            return Error::make(Errc::Config, "kbs_paths.%s: not among the resources the agent asks for", name.c_str());
    }
    KbsPaths resolved;
    for (const std::string& name : out.resources) {
        auto mapped = std::find_if(out.kbs_paths.begin(), out.kbs_paths.end(),
                                   [&](const auto& entry) { return entry.first == name; });
        resolved.emplace_back(name,
                              mapped != out.kbs_paths.end() ? mapped->second : DEFAULT_KBS_REPOSITORY_TYPE + name);
    }
    // One path, one use: a volume key must never also be a secret the workload reads.
    for (size_t i = 0; complete && i < resolved.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
            if (resolved[i].second == resolved[j].second)
                return Error::make(Errc::Config, "kbs_paths: %s and %s are both %s; each resource needs its own path",
                                   resolved[j].first.c_str(), resolved[i].first.c_str(), resolved[i].second.c_str());
        }
    }
    out.kbs_paths = std::move(resolved);
    return {};
}

}  // namespace

Result<AgentConfig> merge_config(const AgentCmdline& cmdline, const AgentFileConfig& file, const Deployment* deployment)
{
    bool initdata = cmdline.initdata != InitdataSource::None;
    if (deployment && !initdata)
        return Error::make(Errc::Config, "init-data: settings given, but the command line has no cvminit.initdata");
    if (cmdline.workload && !file.command.empty())
        return Error::make(Errc::Config, "workload: set both by cvminit.workload on the command line and by "
                                         "workload.command in cvminit.toml; keep exactly one");
    if (!cmdline.workload && file.command.empty())
        return Error::make(Errc::Config, "workload: not set; give cvminit.workload=/path on the command line or "
                                         "workload.command in cvminit.toml");
    if (!cmdline.resources.empty() && !file.resources.empty())
        return Error::make(Errc::Config, "resources: set both by cvminit.resources on the command line and by "
                                         "secrets.resources in cvminit.toml; keep exactly one");
    AgentConfig out;
    out.broker_url = cmdline.broker_url;
    out.broker_key = cmdline.broker_key.value_or(proto::Ed25519PublicKey{});
    out.simulate = cmdline.simulate;
    out.net = cmdline.net;
    out.deadline_seconds = cmdline.deadline_seconds;
    out.resources = cmdline.resources.empty() ? file.resources : cmdline.resources;
    out.workload_env = file.env;
    out.transport = cmdline.transport.value_or(Transport::Cvmkb);
    out.broker_protocol = cmdline.broker_protocol.value_or(BrokerProtocol::Cvmkb);
    out.kbs_paths = file.kbs_paths;
    out.reattest_seconds = cmdline.reattest_seconds;
    out.reattest_fail = cmdline.reattest_fail;
    out.initdata = cmdline.initdata;
    if (deployment)
        TRY(merge_deployment(cmdline, file, *deployment, out));
    if (!initdata || deployment) {
        if (out.broker_url.empty())
            return Error::make(Errc::Config, "broker: not set; give cvminit.broker on the command line or broker in "
                                             "init-data's cvminit.toml");
        if (out.broker_protocol == BrokerProtocol::Cvmkb && !cmdline.broker_key &&
            !(deployment && deployment->broker_key))
            return Error::make(Errc::Config, "broker_key: not set; give cvminit.broker_key on the command line or "
                                             "broker_key in init-data's cvminit.toml");
    }
    if (out.transport == Transport::Ratls && !out.broker_url.empty() && out.broker_url.rfind("https://", 0) != 0)
        return Error::make(Errc::Config, "transport: ratls needs an https:// broker (it is mutual TLS), got %s",
                           out.broker_url.c_str());
    if (cmdline.data &&
        std::find(out.resources.begin(), out.resources.end(), cmdline.data->key_name) == out.resources.end())
        out.resources.push_back(cmdline.data->key_name);
    if (out.resources.size() > MAX_RESOURCES)
        return Error::make(Errc::Config, "resources: 64 names and the data volume's key '%s' are more than 64",
                           cmdline.data->key_name.c_str());
    TRY(check_kbs(cmdline, !initdata || deployment, out));
    out.verity = cmdline.verity;
    out.data = cmdline.data;
    out.workload_root = file.root;
    out.workload_argv = cmdline.workload ? std::vector<std::string>{*cmdline.workload} : file.command;
    out.secrets_dir = file.secrets_dir;
    out.workload_user = file.user;
    out.workload_group = file.group;
    out.isolation = file.isolation;
    out.api_enabled = file.api_enabled;
    out.api_group = file.api_group;
    return out;
}

}  // namespace cvm::cmdline
