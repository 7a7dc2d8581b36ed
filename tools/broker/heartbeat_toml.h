// The [heartbeat] and [webhooks] tables of the broker's configuration (docs/broker.md):
//
//   [heartbeat] stale_grace = 60          seconds past 2 x the agent's interval before a VM is stale
//               max_vms = 100000          VMs remembered by one process
//   [webhooks]  on_stale = "https://..."  POSTed when a VM goes stale (optional)
//               on_refused = "https://..." POSTed when a heartbeat is refused (optional)
//               timeout_ms = 5000         per POST
//               queue = 256               events waiting at most; more are dropped
//               ca_file = "ca.pem"        for https URLs; default the system's bundle
#pragma once

#include <toml++/toml.hpp>

#include <optional>
#include <string>

#include "heartbeats.h"
#include "webhooks.h"

namespace cvm::broker {

// Errc::Config naming the key ("webhooks.on_stale"), the value found and what is expected.
Result<HeartbeatOptions> parse_heartbeat_table(const toml::table& table);
Result<WebhookConfig> parse_webhooks_table(const toml::table& table, const std::string& base_dir);

}  // namespace cvm::broker
