#include "config.h"

#include <algorithm>
#include <set>

#include "base/base64.h"
#include "base/file.h"
#include "base/toml_reader.h"
#include "heartbeat_toml.h"
#include "policy/policy_toml.h"
#include "proto/messages.h"
#include "store_toml.h"
#include "verify/crl.h"

namespace cvm::broker {
namespace {

constexpr size_t MAX_CONFIG_BYTES = 1 << 20;
constexpr size_t MAX_SECRET_BYTES = 64 * 1024;
constexpr size_t MAX_KEY_FILE_BYTES = 4096;

const TomlReader R("broker config");

Error config_error(std::string_view key, const char* what)
{
    return R.error(key, what);
}

// The string member `name` of `table` (prefix.name in messages); missing is an error.
Result<std::string> required_string(const toml::table& table, std::string_view name, std::string_view prefix)
{
    return R.string(*TRY(R.required(table, name, prefix)), TomlReader::join(prefix, name));
}

std::string resolve(const std::string& base_dir, const std::string& path)
{
    return path.empty() || path[0] == '/' || base_dir.empty() ? path : base_dir + "/" + path;
}

Result<std::pair<std::string, uint16_t>> address(const toml::node& v, const std::string& key)
{
    std::string text = TRY(R.string(v, key));
    size_t colon = text.rfind(':');
    auto bad = [&] { return config_error(key, "expected address:port, e.g. 127.0.0.1:8443 or [::1]:8443"); };
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        return bad();
    std::string host = text.substr(0, colon);
    if (host.front() == '[') {
        if (host.back() != ']')
            return bad();
        host = host.substr(1, host.size() - 2);
    }
    unsigned long port = 0;
    for (char c : text.substr(colon + 1)) {
        if (c < '0' || c > '9' || (port = port * 10 + static_cast<unsigned long>(c - '0')) > 65535)
            return bad();
    }
    return std::pair{host, static_cast<uint16_t>(port)};
}

// A resource's measurements, releases and HOST_DATA values: at least one of the first two.
template <typename Resource>
Result<void> resource_targets(const toml::table& t, const std::string& key, const BrokerConfig& c, Resource& r)
{
    const toml::node* measurements = t.get("measurements");
    const toml::node* releases = t.get("releases");
    if (!measurements && !releases)
        return config_error(key + ".measurements", "missing: name the measurements this resource is released to, or "
                                                   "the [[policy.release]] entries (releases = [\"name\"])");
    if (measurements)
        r.measurements = TRY(R.hex_list<48>(*measurements, key + ".measurements"));
    for (const auto& m : r.measurements) {
        const auto& accepted = c.policy.measurements;
        if (std::find(accepted.begin(), accepted.end(), m) == accepted.end())
            return config_error(key + ".measurements", "lists a measurement that policy.measurements does not accept");
    }
    if (releases) {
        const toml::array* list = releases->as_array();
        if (!list || list->empty())
            return config_error(key + ".releases", "expected a non-empty list of [[policy.release]] names");
        for (const toml::node& item : *list) {
            r.releases.push_back(TRY(R.string(item, key + ".releases")));
            if (!c.releases.trust(r.releases.back()))
                return config_error(key + ".releases", "names no [[policy.release]] entry");
        }
    }
    if (const toml::node* host_data = t.get("host_data"))
        r.host_data = TRY(R.hex_list<32>(*host_data, key + ".host_data"));
    return {};
}

Result<SecretResource> secret_resource(const toml::table& t, const std::string& key, const BrokerConfig& c,
                                       const std::string& base_dir)
{
    TRY(R.only_keys(t, key,
                    {"name", "file", "value", "env", "measurements", "releases", "host_data", "once_per_launch"}));
    SecretResource r;
    r.name = TRY(required_string(t, "name", key));
    if (!proto::valid_resource_name(r.name))
        return config_error(key + ".name",
                            "expected 1 to 64 of A-Z a-z 0-9 _ . - (a file name), not starting with '.'");
    const toml::node* file = t.get("file");
    const toml::node* value = t.get("value");
    if ((file != nullptr) == (value != nullptr))
        return config_error(key, "expected exactly one of 'file' (the secret's bytes) and 'value' (text)");
    if (file) {
        r.value = TRY_PREFIX(read_secret_file(resolve(base_dir, TRY(R.string(*file, key + ".file"))), MAX_SECRET_BYTES),
                             "%s.file", key.c_str());
    } else {
        const std::string* text = value->as_string() ? &value->as_string()->get() : nullptr;
        if (!text)
            return config_error(key + ".value", "expected a string");
        r.value = SecretBytes::copy_of({reinterpret_cast<const uint8_t*>(text->data()), text->size()});
    }
    if (const toml::node* env = t.get("env")) {
        r.env = TRY(R.string(*env, key + ".env"));
        if (!proto::valid_env_name(*r.env))
            return config_error(key + ".env", "expected an environment variable name of A-Z 0-9 _");
    }
    TRY(resource_targets(t, key, c, r));
    if (const toml::node* once = t.get("once_per_launch"))
        r.once_per_launch = TRY(R.boolean(*once, key + ".once_per_launch"));
    return r;
}

Result<VolumeResource> volume_resource(const toml::table& t, const std::string& key, const BrokerConfig& c,
                                       const std::string& base_dir)
{
    TRY(R.only_keys(t, key,
                    {"name", "key_file", "measurements", "releases", "host_data", "once_per_launch",
                     "rollback_protection", "recovery_key_file"}));
    VolumeResource r;
    r.name = TRY(required_string(t, "name", key));
    if (!proto::valid_resource_name(r.name))
        return config_error(key + ".name", "expected 1 to 64 of A-Z a-z 0-9 _ . -, not starting with '.'");
    std::string path = resolve(base_dir, TRY(required_string(t, "key_file", key)));
    r.key = TRY_PREFIX(read_secret_file(path, 512), "%s.key_file", key.c_str());
    if (r.key.size() < 32)
        return config_error(key + ".key_file", "expected 32 to 512 bytes of key material");
    TRY(resource_targets(t, key, c, r));
    if (const toml::node* once = t.get("once_per_launch"))
        r.once_per_launch = TRY(R.boolean(*once, key + ".once_per_launch"));
    if (const toml::node* n = t.get("rollback_protection"))
        r.rollback_protection = TRY(R.boolean(*n, key + ".rollback_protection"));
    if (const toml::node* n = t.get("recovery_key_file")) {
        std::string recovery = resolve(base_dir, TRY(R.string(*n, key + ".recovery_key_file")));
        r.recovery_key = TRY_PREFIX(read_secret_file(recovery, 512), "%s.recovery_key_file", key.c_str());
        if (r.recovery_key.size() < 32)
            return config_error(key + ".recovery_key_file", "expected 32 to 512 bytes of key material");
        // One key for both keyslots would make the recovery slot no separate key at all.
        if (r.recovery_key.equals(r.key))
            return config_error(key + ".recovery_key_file", "holds the same key as key_file, expected another");
    }
    return r;
}

// [volumes] state_file: where a broker without [store] keeps its volume generations.
Result<void> volumes_table(const toml::table& root, BrokerConfig& c, const std::string& base_dir)
{
    const toml::node* n = root.get("volumes");
    if (!n)
        return {};
    const toml::table* t = n->as_table();
    if (!t)
        return config_error("volumes", "expected a table with state_file = \"path\"");
    TRY(R.only_keys(*t, "volumes", {"state_file"}));
    if (const toml::node* f = t->get("state_file")) {
        if (c.store)
            return config_error("volumes.state_file",
                                "is set with [store]: the volume generations are kept in the shared store, "
                                "expected one of the two");
        std::string path = TRY(R.string(*f, "volumes.state_file"));
        if (path.empty())
            return config_error("volumes.state_file", "is empty, expected a file path");
        c.volume_state_file = resolve(base_dir, path);
    }
    return {};
}

Result<kds::KdsOptions> kds_options(const toml::table& t, const std::string& base_dir)
{
    TRY(R.only_keys(t, "kds", {"url", "cache_dir", "ttl", "offline", "timeout"}));
    kds::KdsOptions o;
    if (const toml::node* n = t.get("url"))
        o.base_url = TRY(R.string(*n, "kds.url"));
    if (const toml::node* n = t.get("cache_dir"))
        o.cache_dir = resolve(base_dir, TRY(R.string(*n, "kds.cache_dir")));
    if (const toml::node* n = t.get("ttl"))
        o.ttl_seconds = TRY(R.integer(*n, "kds.ttl", 0, 365 * 86400));
    if (const toml::node* n = t.get("offline"))
        o.mode = TRY(R.boolean(*n, "kds.offline")) ? kds::Mode::Offline : kds::Mode::Online;
    if (const toml::node* n = t.get("timeout")) {
        int64_t seconds = TRY(R.integer(*n, "kds.timeout", 1, 300));
        o.http.total_timeout_ms = seconds * 1000;
        o.http.io_timeout_ms = std::min(o.http.io_timeout_ms, seconds * 1000);
        o.http.connect_timeout_ms = std::min(o.http.connect_timeout_ms, seconds * 1000);
    }
    return o;
}

// Where the CRLs of revocation checking come from (config.h): the simulated platform's from
// simulated_crl, AMD's from [kds].
Result<void> revocation_sources(const toml::table& root, BrokerConfig& c, const std::string& base_dir)
{
    if (const toml::node* n = root.get("simulated_crl")) {
        if (c.simulated_roots.empty())
            return config_error("simulated_crl", "is set without simulated_root: it is the simulated ARK's CRL");
        c.simulated_crl_path = resolve(base_dir, TRY(R.string(*n, "simulated_crl")));
        Bytes crl = TRY_PREFIX(read_file(c.simulated_crl_path, verify::CRL_MAX_PEM_SIZE), "simulated_crl");
        // Its signature and dates are the verifier's to check, on every attest; a file that is no
        // CRL, or another root's, is a mistake to catch now.
        verify::Crl parsed = TRY_PREFIX(verify::Crl::parse(crl), "simulated_crl %s", c.simulated_crl_path.c_str());
        if (!std::ranges::equal(parsed.issuer_raw(), c.simulated_roots.front().subject_raw()))
            return config_error("simulated_crl", "is not issued by simulated_root's ARK (its issuer Name differs): "
                                                 "name the CRL of the same simulated platform");
        c.simulated_crls.push_back(std::move(crl));
    }
    if (!c.policy.revocation)
        return {};
    if (!c.simulated_roots.empty() && c.simulated_crls.empty())
        return config_error("simulated_crl", "missing: revocation is on (the default), so simulated evidence needs "
                                             "its CRL: name sim/crl.der (cvm sim init, cvm sim crl), or set "
                                             "policy.revocation = false");
    if (!c.kds && !c.policy.allow_simulated)
        return config_error("kds", "missing: revocation is on (the default) and AMD's CRLs come from KDS: add [kds] "
                                   "(url, or offline with a cache_dir holding them), or set policy.revocation = false");
    return {};
}

// [[policy.release]] and [releases]: each needs the other.
Result<void> release_sources(const toml::table& root, const toml::table& policy_table, bool has_releases,
                             BrokerConfig& c, const std::string& base_dir)
{
    const toml::node* dir_table = root.get("releases");
    if (!has_releases && !dir_table)
        return {};
    if (!has_releases)
        return config_error("releases", "is set without [[policy.release]]: name the key the releases are signed with");
    if (!dir_table)
        return config_error("releases", "missing: [[policy.release]] needs [releases] dir = \"...\" holding the "
                                        "release bundles (*.sigstore.json)");
    const toml::table* t = dir_table->as_table();
    if (!t)
        return config_error("releases", "expected a table with dir");
    TRY(R.only_keys(*t, "releases", {"dir"}));
    std::string dir = resolve(base_dir, TRY(required_string(*t, "dir", "releases")));
    auto trusts = TRY(ReleaseSet::parse_trusts(*policy_table.get("release"), base_dir));
    c.releases = TRY(ReleaseSet::load(std::move(trusts), dir));
    return {};
}

Result<void> resources(const toml::table& root, BrokerConfig& c, const std::string& base_dir)
{
    std::set<std::string> names;
    auto unique = [&](const std::string& name, const std::string& key) -> Result<void> {
        if (!names.insert(name).second)
            return config_error(key + ".name", "a resource of this name is already defined");
        return {};
    };
    for (const char* kind : {"secret", "volume"}) {
        const toml::node* node = root.get(kind);
        if (!node)
            continue;
        const toml::array* list = node->as_array();
        if (!list)
            return config_error(kind, "expected an array of tables ([[secret]] / [[volume]])");
        for (size_t i = 0; i < list->size(); ++i) {
            std::string key = std::string(kind) + "[" + std::to_string(i) + "]";
            const toml::table* t = (*list)[i].as_table();
            if (!t)
                return config_error(key, "expected a table");
            if (std::string_view(kind) == "secret") {
                c.secrets.push_back(TRY(secret_resource(*t, key, c, base_dir)));
                TRY(unique(c.secrets.back().name, key));
            } else {
                c.volumes.push_back(TRY(volume_resource(*t, key, c, base_dir)));
                TRY(unique(c.volumes.back().name, key));
            }
        }
    }
    return {};
}

}  // namespace

Result<BrokerConfig> parse_broker_config(std::string_view text, const std::string& base_dir)
{
    toml::table root = TRY(parse_toml(text, "broker config"));
    TRY(R.only_keys(root, "",
                    {"listen",
                     "metrics_listen",
                     "reload_endpoint",
                     "signing_key",
                     "nonce_key",
                     "nonce_lifetime",
                     "max_connections",
                     "max_connections_per_peer",
                     "header_timeout_ms",
                     "min_body_rate",
                     "max_request_bytes",
                     "simulated_root",
                     "simulated_crl",
                     "tls",
                     "kds",
                     "policy",
                     "releases",
                     "secret",
                     "volume",
                     "volumes",
                     "store",
                     "heartbeat",
                     "webhooks"}));
    BrokerConfig c;
    auto [host, port] = TRY(address(*TRY(R.required(root, "listen", "")), "listen"));
    c.server.address = host;
    c.server.port = port;
    if (const toml::node* n = root.get("metrics_listen")) {
        auto [mhost, mport] = TRY(address(*n, "metrics_listen"));
        c.metrics_server.emplace();
        c.metrics_server->address = mhost;
        c.metrics_server->port = mport;
    }
    if (const toml::node* n = root.get("reload_endpoint")) {
        c.reload_endpoint = TRY(R.boolean(*n, "reload_endpoint"));
        if (c.reload_endpoint && !c.metrics_server)
            return config_error("reload_endpoint", "is true, but POST /-/reload is served on metrics_listen, "
                                                   "which is not set");
    }
    if (const toml::node* n = root.get("max_connections"))
        c.server.max_connections = static_cast<size_t>(TRY(R.integer(*n, "max_connections", 1, 4096)));
    // The starvation limits of net/http_server.h; its defaults unless set.
    if (const toml::node* n = root.get("max_connections_per_peer"))
        c.server.max_connections_per_peer =
            static_cast<size_t>(TRY(R.integer(*n, "max_connections_per_peer", 0, 4096)));
    if (const toml::node* n = root.get("header_timeout_ms"))
        c.server.header_timeout_ms = TRY(R.integer(*n, "header_timeout_ms", 100, 60000));
    if (const toml::node* n = root.get("min_body_rate"))
        c.server.min_body_rate = static_cast<size_t>(TRY(R.integer(*n, "min_body_rate", 0, 1 << 30)));
    c.server.limits.max_body_bytes = 64 * 1024;
    if (const toml::node* n = root.get("max_request_bytes"))
        c.server.limits.max_body_bytes = static_cast<size_t>(TRY(R.integer(*n, "max_request_bytes", 4096, 1 << 24)));

    std::string key_path = resolve(base_dir, TRY(required_string(root, "signing_key", "")));
    SecretBytes pem = TRY_PREFIX(read_secret_file(key_path, MAX_KEY_FILE_BYTES), "signing_key");
    std::string_view pem_text(reinterpret_cast<const char*>(pem.expose().data()), pem.size());
    c.signing_key.emplace(TRY_PREFIX(proto::parse_ed25519_private_pem(pem_text), "signing_key %s", key_path.c_str()));

    if (const toml::node* n = root.get("nonce_key")) {
        std::string path = resolve(base_dir, TRY(R.string(*n, "nonce_key")));
        SecretBytes file = TRY_PREFIX(read_secret_file(path, 128), "nonce_key");
        std::string_view b64(reinterpret_cast<const char*>(file.expose().data()), file.size());
        while (!b64.empty() && (b64.back() == '\n' || b64.back() == '\r'))
            b64.remove_suffix(1);
        auto key = base64_decode_secret(b64);
        if (!key || key->size() != 32)
            return config_error("nonce_key", "expected a file holding the base64 of 32 random bytes");
        c.nonce_key.emplace();
        std::copy(key->expose().begin(), key->expose().end(), c.nonce_key->expose().begin());
    }
    if (const toml::node* n = root.get("nonce_lifetime"))
        c.nonce_lifetime = TRY(R.integer(*n, "nonce_lifetime", 5, 3600));

    if (const toml::node* n = root.get("tls")) {
        const toml::table* t = n->as_table();
        if (!t)
            return config_error("tls", "expected a table with cert and key");
        TRY(R.only_keys(*t, "tls", {"cert", "key"}));
        std::string cert = resolve(base_dir, TRY(required_string(*t, "cert", "tls")));
        std::string key = resolve(base_dir, TRY(required_string(*t, "key", "tls")));
        c.server.tls = net::TlsServerFiles{std::move(cert), std::move(key)};
        // Clients may present a certificate, which only the RA-TLS transport looks at (an agent's
        // evidence: attest_ratls.cc); agents of the cvmkb/1 transport send none and are served alike.
        c.server.client_certificates = net::ClientCertificates::Optional;
    }
    if (const toml::node* n = root.get("store")) {
        const toml::table* t = n->as_table();
        if (!t)
            return config_error("store", "expected a table with url = \"redis://host:port/db\"");
        c.store = TRY(parse_store_table(*t, base_dir));
    }
    if (const toml::node* n = root.get("kds")) {
        const toml::table* t = n->as_table();
        if (!t)
            return config_error("kds", "expected a table");
        c.kds = TRY(kds_options(*t, base_dir));
    }
    for (const char* name : {"heartbeat", "webhooks"}) {
        const toml::node* n = root.get(name);
        if (n && !n->as_table())
            return config_error(name, "expected a table");
    }
    if (const toml::node* n = root.get("heartbeat"))
        c.heartbeat = TRY(parse_heartbeat_table(*n->as_table()));
    if (const toml::node* n = root.get("webhooks"))
        c.webhooks = TRY(parse_webhooks_table(*n->as_table(), base_dir));

    const toml::table* policy_table = root.get("policy") ? root.get("policy")->as_table() : nullptr;
    if (!policy_table)
        return config_error("policy", "missing: a broker needs a [policy] table listing the measurements it accepts");
    bool has_releases = false;
    c.policy = TRY(parse_policy_with_releases(*policy_table, has_releases));
    TRY(release_sources(root, *policy_table, has_releases, c, base_dir));

    // A simulated root without allow_simulated is useful: such evidence is then recognised and
    // refused as SIMULATED_NOT_ALLOWED instead of failing as an unknown chain.
    if (const toml::node* n = root.get("simulated_root")) {
        std::string path = resolve(base_dir, TRY(R.string(*n, "simulated_root")));
        Bytes der = TRY_PREFIX(read_file(path, verify::CERT_MAX_DER_SIZE * 2), "simulated_root");
        c.simulated_roots.push_back(TRY_PREFIX(verify::Certificate::parse(der), "simulated_root %s", path.c_str()));
    } else if (c.policy.allow_simulated) {
        return config_error("simulated_root", "missing: policy.allow_simulated needs the simulated ARK it trusts");
    }
    TRY(revocation_sources(root, c, base_dir));
    TRY(resources(root, c, base_dir));
    TRY(volumes_table(root, c, base_dir));
    if (c.secrets.empty() && c.volumes.empty())
        return config_error("secret", "no [[secret]] or [[volume]]: the broker would have nothing to release");
    return c;
}

Result<BrokerConfig> load_broker_config(const std::string& path)
{
    std::string text = TRY(read_text_file(path, MAX_CONFIG_BYTES));
    size_t slash = path.rfind('/');
    return parse_broker_config(text, slash == std::string::npos ? "." : path.substr(0, slash));
}

}  // namespace cvm::broker
