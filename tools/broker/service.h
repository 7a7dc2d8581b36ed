// The running broker of `cvm broker`: one configuration generation at a time, replaced whole by a
// reload (SIGHUP, POST /-/reload), and what must outlive every generation.
//
// A generation is a Broker built by Broker::create() from the configuration file and the policy,
// secret and key files it names, all read again on each reload. A reload builds the new
// generation completely, with the same checks as startup, before it swaps it in under a lock;
// when any check fails the old generation stays and the error is logged and returned. Requests
// take a reference to the generation current when they start and use it to the end, so an answer
// is made from one generation's values, never a mix, and a reload waits for no request.
//
// Kept across reloads, outside the Broker: the Metrics (counters never restart), the Store (used
// nonces, release records and, unless [volumes] state_file names a FileStore, volume
// generations; wrapped in a TimedStore for its metrics) and, when the
// configuration has no nonce_key, the nonce key generated at start, so nonces issued before a
// reload are accepted after it. Settings that need a restart (the servers' listen,
// metrics_listen, tls and limits, and the [store]) make a reload fail with a message naming them.
//
// The operations endpoints (handle_ops, on metrics_listen): GET /metrics, GET /vms (the VMs
// heard from by heartbeat, JSON: docs/broker.md), GET /healthz (the
// process answers), GET /readyz (a generation is loaded and the store answers Store::ping(); 503
// otherwise and while draining), POST /-/reload (only with reload_endpoint = true: 403 without;
// 200 on success, 422 with the error when the old generation is kept).
//
// Thread-safe: handle() and handle_ops() are called from the HTTP servers' connection threads;
// reloads are serialised.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "broker.h"
#include "config.h"
#include "file_store.h"
#include "metrics.h"
#include "net/http.h"
#include "store.h"
#include "timed_store.h"

namespace cvm::broker {

struct ServiceOptions {
    Store* store = nullptr;                       // required; must outlive the service
    kds::Clock* clock = nullptr;                  // nullptr: the system clock; must outlive the service
    std::function<void(const std::string&)> log;  // one call per line; nullptr: stderr
    std::string version = "unknown";              // cvm_broker_build_info{version}
    int64_t stale_scan_ms = 5000;                 // how often stale VMs are looked for (broker.h)
};

class Service {
public:
    // Builds generation 1 from `config`, already loaded from `config_path` (reloads read that
    // path again), and logs its policy summary and warnings. Errc::Config as Broker::create().
    static Result<std::unique_ptr<Service>> create(std::string config_path, BrokerConfig config,
                                                   ServiceOptions options);

    // The cvmkb/1 endpoints, on the current generation; 503 once drain() has begun.
    net::HttpResponse handle(const net::HttpRequest& request);

    // /metrics, /healthz, /readyz, /-/reload (see above).
    net::HttpResponse handle_ops(const net::HttpRequest& request);

    // Reads the configuration again and swaps the new generation in; returns its number. On any
    // error the current generation stays, the error is logged and returned, and
    // cvm_broker_reloads_total{result="failed"} counts it.
    Result<uint64_t> reload();

    // Refuses new requests from now on (503, Retry-After) and waits up to `timeout_ms` for
    // those in progress to finish; false when some were still running at the timeout.
    bool drain(int64_t timeout_ms);

    uint64_t generation() const;
    std::shared_ptr<Broker> broker() const;  // the current generation's broker
    std::string metrics_text() const;
    Store& store() { return m_store; }

private:
    struct Generation;
    Service(std::string config_path, ServiceOptions options);
    Result<std::shared_ptr<const Generation>> build(BrokerConfig config, uint64_t number);
    std::shared_ptr<const Generation> current() const;
    void log(const std::string& line) const;
    net::HttpResponse reload_response();

    std::string m_config_path;
    ServiceOptions m_options;
    Metrics m_metrics;
    TimedStore m_store;
    HeartbeatRegistry m_heartbeats;                   // last-seen per REPORT_ID, kept across reloads
    std::unique_ptr<FileStore> m_volume_file;         // [volumes] state_file without [store]; null: m_store
    std::optional<Secret<32>> m_generated_nonce_key;  // made by the first generation without nonce_key

    mutable std::mutex m_mutex;  // guards m_current (a pointer copy; never held during a request)
    std::shared_ptr<const Generation> m_current;
    std::mutex m_reload_mutex;  // one reload at a time

    std::atomic<bool> m_draining{false};
    std::mutex m_flight_mutex;
    std::condition_variable m_flight_done;
    size_t m_in_flight{0};
};

// What a running process cannot change: the servers are bound and the store is open.
struct RestartSettings {
    net::ServerOptions server;
    std::optional<net::ServerOptions> metrics_server;
    std::string store;                                  // every [store] key but the password
    std::string volume_state_file;                      // [volumes] state_file
    std::shared_ptr<const SecretBytes> store_password;  // null: none

    static RestartSettings of(const BrokerConfig& config);
};

// The restart-only keys whose values differ between `running` and `next`, comma-separated (""
// when none): listen, metrics_listen, tls, max_connections, max_connections_per_peer,
// header_timeout_ms, min_body_rate, max_request_bytes, store, volumes.state_file.
std::string restart_only_changes(const RestartSettings& running, const RestartSettings& next);

}  // namespace cvm::broker
