// The broker's configuration file (TOML). Every key is listed in docs/broker.md; in short:
//
//   listen = "127.0.0.1:8443"              address:port (IPv6 as [::1]:8443)
//   metrics_listen = "127.0.0.1:9464"      optional, Prometheus text format on its own port
//   reload_endpoint = false                true: POST /-/reload on metrics_listen reloads
//   signing_key = "broker.key"             Ed25519 PKCS#8 PEM (openssl genpkey -algorithm ed25519)
//   nonce_key = "nonce.key"                optional: base64 of 32 bytes, shared by replicas
//   nonce_lifetime = 60                    seconds
//   max_connections = 64
//   max_connections_per_peer = 16         still sending, per IPv4 / IPv6 /64; default max_connections/4;
//                                          0: no cap (net/http_server.h)
//   header_timeout_ms = 5000               accept to the end of the headers, TLS handshake included
//   min_body_rate = 1024                   body bytes/s a client must keep up after 2 s; 0: no floor
//   simulated_root = "sim/ark.pem"         the ARK of `cvm sim`: its evidence is recognised as
//                                          simulated, and accepted only with allow_simulated
//   simulated_crl = "sim/crl.der"          the simulated platform's CRL (cvm sim init / cvm sim crl):
//                                          the one simulated evidence is checked against
//   [tls] cert = "..." key = "..."         optional; plain HTTP without it. With it, clients may
//                                          present a certificate (the RA-TLS transport's)
//   [kds] url, cache_dir, ttl, offline     where VCEKs come from when the request has none
//   [policy] ...                           the policy layer's keys (policy/policy_toml.cc)
//   [[policy.release]] name, key, require_tlog, trusted_root, max_age, not_after   (releases.h)
//   [releases] dir                         the signed release bundles, loaded and verified at
//                                          start and on every reload (releases.h)
//   [[secret]] name, file | value, env, measurements, releases, host_data, once_per_launch
//                                          (default false)
//   [store] url, username, password_file, ca_file, server_name, timeout_ms, pool_size
//                                          optional: Redis shared by replicas (store_config.h)
//   [[volume]] name, key_file, measurements, releases, host_data, once_per_launch (default true),
//              rollback_protection (default true), recovery_key_file (volume_generations.h)
//   [volumes] state_file                   optional, without [store]: the volume generations in a
//                                          file (file_store.h) instead of the process's memory
//   [heartbeat] stale_grace, max_vms       heartbeat bookkeeping (heartbeat_toml.h)
//   [webhooks] on_stale, on_refused, timeout_ms, queue, ca_file   (heartbeat_toml.h)
//
// Relative paths are relative to the configuration file's directory. Every unknown key, wrong
// type, duplicate resource name, or resource measurement the policy does not accept fails with
// Errc::Config naming the key. A resource names the measurements it is released to, or the
// [[policy.release]] entries whose fresh releases' MEASUREMENTs it is released to, or both; with
// `host_data` it is released only to reports whose HOST_DATA is one of those. policy.measurements
// may be left out when [[policy.release]] entries supply the measurements.
//
// Revocation (policy.revocation, on unless `revocation = false`) needs a CRL for every kind of
// evidence the broker may accept, so these fail with Errc::Config naming the key and the fix:
// simulated_root without simulated_crl, and no [kds] (where AMD's CRLs come from) unless
// policy.allow_simulated marks a development broker (its AMD-rooted evidence is then refused per
// request, naming the missing CRL). The broker never uses a CRL a client sends: an old one could
// be replayed. Secret values are read into SecretBytes and never appear in an
// error message.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/secret.h"
#include "heartbeats.h"
#include "kds/kds_client.h"
#include "net/http_server.h"
#include "policy/policy.h"
#include "proto/keys.h"
#include "releases.h"
#include "store_config.h"
#include "verify/certificate.h"
#include "webhooks.h"

namespace cvm::broker {

struct SecretResource {
    std::string name;  // also the file name under /run/secrets: [A-Za-z0-9_.-], not starting with '.'
    SecretBytes value;
    std::optional<std::string> env;  // exported to the workload's environment under this name
    std::vector<policy::Measurement> measurements;
    std::vector<std::string> releases;               // [[policy.release]] names
    std::vector<std::array<uint8_t, 32>> host_data;  // empty: any HOST_DATA
    bool once_per_launch = false;                    // released to one agent key per REPORT_ID (docs/broker.md)
};

struct VolumeResource {
    std::string name;
    SecretBytes key;  // the LUKS2 keyslot passphrase: 32 to 512 bytes
    std::vector<policy::Measurement> measurements;
    std::vector<std::string> releases;               // [[policy.release]] names
    std::vector<std::array<uint8_t, 32>> host_data;  // empty: any HOST_DATA
    bool once_per_launch = true;                     // a workload attesting again later in its launch cannot get it
    // The broker keeps the generation the volume's disk must report next and refuses any other
    // (VOLUME_ROLLBACK): the host cannot attach an older copy (volume_generations.h).
    bool rollback_protection = true;
    SecretBytes recovery_key;  // empty: none. The recovery keyslot's passphrase (recovery_key_file)
};

struct BrokerConfig {
    net::ServerOptions server;  // with server.tls set by a [tls] table
    std::optional<net::ServerOptions> metrics_server;
    bool reload_endpoint = false;                      // POST /-/reload on metrics_server (needs metrics_listen)
    std::optional<proto::Ed25519KeyPair> signing_key;  // always set by parse_broker_config()
    std::optional<Secret<32>> nonce_key;               // nullopt: random per process (one broker)
    int64_t nonce_lifetime = 60;
    policy::Policy policy;
    ReleaseSet releases;  // [[policy.release]] and the bundles of [releases] dir, verified
    std::vector<verify::Certificate> simulated_roots;
    // simulated_crls[i] is the CRL of simulated_roots[i] (the file's simulated_crl; a program may
    // add root and CRL pairs), DER or PEM. Simulated roots may share one Name, so the pairing is
    // by position; a root past the end has no CRL.
    std::vector<Bytes> simulated_crls;
    std::string simulated_crl_path;      // for the summary
    std::optional<kds::KdsOptions> kds;  // nullopt: VCEKs must come with the request
    std::vector<SecretResource> secrets;
    std::vector<VolumeResource> volumes;
    std::optional<StoreConfig> store;       // nullopt: the state of one process, in memory
    std::string volume_state_file;          // [volumes] state_file, resolved; "": none
    HeartbeatOptions heartbeat;             // [heartbeat] (heartbeat_toml.h)
    std::optional<WebhookConfig> webhooks;  // [webhooks]; nullopt: none called
};

// Parses configuration text; `base_dir` resolves relative paths.
Result<BrokerConfig> parse_broker_config(std::string_view text, const std::string& base_dir);

// Reads and parses a configuration file.
Result<BrokerConfig> load_broker_config(const std::string& path);

}  // namespace cvm::broker
