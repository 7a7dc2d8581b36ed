#include "heartbeat_toml.h"

#include "base/toml_reader.h"
#include "net/url.h"

namespace cvm::broker {
namespace {

const TomlReader R("broker config");

Result<std::string> url(const toml::table& t, const char* name)
{
    std::string key = std::string("webhooks.") + name;
    std::string text = TRY(R.string(*t.get(name), key));
    if (auto parsed = net::parse_url(text); !parsed)
        return R.error(key, "expected an http:// or https:// URL");
    return text;
}

}  // namespace

Result<HeartbeatOptions> parse_heartbeat_table(const toml::table& t)
{
    TRY(R.only_keys(t, "heartbeat", {"stale_grace", "max_vms"}));
    HeartbeatOptions o;
    if (const toml::node* n = t.get("stale_grace"))
        o.grace_seconds = TRY(R.integer(*n, "heartbeat.stale_grace", 0, 86400));
    if (const toml::node* n = t.get("max_vms"))
        o.max_vms = static_cast<size_t>(TRY(R.integer(*n, "heartbeat.max_vms", 1, 10'000'000)));
    return o;
}

Result<WebhookConfig> parse_webhooks_table(const toml::table& t, const std::string& base_dir)
{
    TRY(R.only_keys(t, "webhooks", {"on_stale", "on_refused", "timeout_ms", "queue", "ca_file"}));
    WebhookConfig c;
    if (t.get("on_stale"))
        c.on_stale = TRY(url(t, "on_stale"));
    if (t.get("on_refused"))
        c.on_refused = TRY(url(t, "on_refused"));
    if (!c.on_stale && !c.on_refused)
        return R.error("webhooks", "has neither on_stale nor on_refused: nothing to call");
    if (const toml::node* n = t.get("timeout_ms"))
        c.timeout_ms = TRY(R.integer(*n, "webhooks.timeout_ms", 100, 60000));
    if (const toml::node* n = t.get("queue"))
        c.queue = static_cast<size_t>(TRY(R.integer(*n, "webhooks.queue", 1, 100000)));
    if (const toml::node* n = t.get("ca_file")) {
        std::string path = TRY(R.string(*n, "webhooks.ca_file"));
        c.ca_file = path.starts_with('/') ? path : base_dir + "/" + path;
    }
    return c;
}

}  // namespace cvm::broker
