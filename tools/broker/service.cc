#include "service.h"

#include <chrono>
#include <cstdio>

#include <sodium.h>

#include "summary.h"

namespace cvm::broker {

struct Service::Generation {
    std::shared_ptr<Broker> broker;
    uint64_t number;
    RestartSettings settings;
    bool reload_endpoint;
};

namespace {

net::HttpResponse text_response(int status, const std::string& text, const char* type = "text/plain; charset=utf-8")
{
    net::HttpResponse r;
    r.status = status;
    r.headers.add("Content-Type", type);
    r.headers.add("Cache-Control", "no-store");
    r.body.assign(text.begin(), text.end());
    return r;
}

bool same_server(const net::ServerOptions& a, const net::ServerOptions& b)
{
    return a.address == b.address && a.port == b.port;
}

bool same_tls(const std::optional<net::TlsServerFiles>& a, const std::optional<net::TlsServerFiles>& b)
{
    if (a.has_value() != b.has_value())
        return false;
    return !a || (a->cert_file == b->cert_file && a->key_file == b->key_file);
}

}  // namespace

RestartSettings RestartSettings::of(const BrokerConfig& config)
{
    RestartSettings r{config.server, config.metrics_server, "memory", config.volume_state_file, nullptr};
    if (const auto& s = config.store) {
        r.store = s->url.to_string() + " user=" + s->username.value_or("-") + " ca=" + s->ca_file +
                  " name=" + s->server_name + " timeout=" + std::to_string(s->timeout_ms) +
                  " pool=" + std::to_string(s->pool_size);
        if (s->password)
            r.store_password = std::make_shared<const SecretBytes>(SecretBytes::copy_of(s->password->expose()));
    }
    return r;
}

std::string restart_only_changes(const RestartSettings& running, const RestartSettings& next)
{
    std::string out;
    auto differs = [&out](bool changed, const char* key) {
        if (changed)
            out += (out.empty() ? "" : ", ") + std::string(key);
    };
    differs(!same_server(running.server, next.server), "listen");
    differs(running.metrics_server.has_value() != next.metrics_server.has_value() ||
                (running.metrics_server && !same_server(*running.metrics_server, *next.metrics_server)),
            "metrics_listen");
    differs(!same_tls(running.server.tls, next.server.tls), "tls");
    differs(running.server.max_connections != next.server.max_connections, "max_connections");
    differs(running.server.max_connections_per_peer != next.server.max_connections_per_peer,
            "max_connections_per_peer");
    differs(running.server.header_timeout_ms != next.server.header_timeout_ms, "header_timeout_ms");
    differs(running.server.min_body_rate != next.server.min_body_rate, "min_body_rate");
    differs(running.server.limits.max_body_bytes != next.server.limits.max_body_bytes, "max_request_bytes");
    bool same_password = running.store_password && next.store_password
                             ? running.store_password->equals(*next.store_password)
                             : !running.store_password && !next.store_password;
    differs(running.store != next.store || !same_password, "store");
    differs(running.volume_state_file != next.volume_state_file, "volumes.state_file");
    return out;
}

Service::Service(std::string config_path, ServiceOptions options)
        : m_config_path(std::move(config_path)), m_options(std::move(options)), m_store(*m_options.store, m_metrics),
          m_heartbeats(m_store)
{
}

Result<std::unique_ptr<Service>> Service::create(std::string config_path, BrokerConfig config, ServiceOptions options)
{
    if (!options.store)
        return Error::make(Errc::Config, "the broker service needs a store");
    std::unique_ptr<Service> s(new Service(std::move(config_path), std::move(options)));
    if (!config.volume_state_file.empty())
        s->m_volume_file = std::make_unique<FileStore>(config.volume_state_file);
    s->m_metrics.build_info(s->m_options.version);
    s->m_current = TRY(s->build(std::move(config), 1));
    s->m_metrics.config_generation(1);
    return s;
}

Result<std::shared_ptr<const Service::Generation>> Service::build(BrokerConfig config, uint64_t number)
{
    std::string summary = policy_summary(config, (m_options.clock ? *m_options.clock : kds::system_clock()).now());
    std::vector<std::string> warnings = policy_warnings(config);
    bool generated_key = !config.nonce_key;
    if (generated_key) {  // made once, at start or when a reload drops nonce_key; outstanding nonces stay valid
        if (!m_generated_nonce_key) {
            m_generated_nonce_key.emplace();
            randombytes_buf(m_generated_nonce_key->expose().data(), m_generated_nonce_key->size());
        }
        config.nonce_key.emplace();
        std::copy_n(m_generated_nonce_key->expose().begin(), 32, config.nonce_key->expose().begin());
    }
    auto g = std::make_shared<Generation>();
    g->number = number;
    g->settings = RestartSettings::of(config);
    g->reload_endpoint = config.reload_endpoint;
    BrokerOptions options;
    options.clock = m_options.clock;
    options.store = &m_store;
    options.volume_store = m_volume_file.get();
    options.metrics = &m_metrics;
    options.log = m_options.log;
    options.heartbeats = &m_heartbeats;
    options.stale_scan_ms = m_options.stale_scan_ms;
    HeartbeatOptions heartbeat = config.heartbeat;
    g->broker = TRY(Broker::create(std::move(config), std::move(options)));
    m_heartbeats.configure(heartbeat);
    log("cvm broker: configuration generation " + std::to_string(number) + " from " + m_config_path + "; " + summary +
        (generated_key ? "; nonce key generated at start (no nonce_key: replicas cannot share nonces)" : ""));
    for (const std::string& w : warnings)
        log("cvm broker: " + w);
    return std::shared_ptr<const Generation>(std::move(g));
}

std::shared_ptr<const Service::Generation> Service::current() const
{
    std::lock_guard lock(m_mutex);
    return m_current;
}

uint64_t Service::generation() const
{
    return current()->number;
}

std::shared_ptr<Broker> Service::broker() const
{
    return current()->broker;
}

std::string Service::metrics_text() const
{
    return current()->broker->metrics_text();
}

void Service::log(const std::string& line) const
{
    if (m_options.log)
        m_options.log(line);
    else
        fprintf(stderr, "%s\n", line.c_str());
}

Result<uint64_t> Service::reload()
{
    std::lock_guard reload_lock(m_reload_mutex);
    std::shared_ptr<const Generation> running = current();
    auto attempt = [&]() -> Result<std::shared_ptr<const Generation>> {
        BrokerConfig config = TRY(load_broker_config(m_config_path));
        std::string changed = restart_only_changes(running->settings, RestartSettings::of(config));
        if (!changed.empty())
            return Error::make(Errc::Config, "%s changed: these settings take effect only on a restart",
                               changed.c_str());
        return build(std::move(config), running->number + 1);
    };
    auto next = attempt();
    if (!next) {
        m_metrics.reload(false);
        log("cvm broker: reload failed, keeping configuration generation " + std::to_string(running->number) + ": " +
            std::string(next.error().message()));
        return next.error();
    }
    {
        std::lock_guard lock(m_mutex);
        m_current = next.value();
    }
    m_metrics.config_generation(next.value()->number);
    m_metrics.reload(true);
    log("cvm broker: reloaded, now configuration generation " + std::to_string(next.value()->number));
    return next.value()->number;
}

net::HttpResponse Service::handle(const net::HttpRequest& request)
{
    {
        std::lock_guard lock(m_flight_mutex);
        if (m_draining.load()) {
            net::HttpResponse r = text_response(503, "the broker is shutting down: retry on another replica\n");
            r.headers.add("Retry-After", "1");
            return r;
        }
        ++m_in_flight;
    }
    net::HttpResponse response = current()->broker->handle(request);
    std::lock_guard lock(m_flight_mutex);
    if (--m_in_flight == 0)
        m_flight_done.notify_all();
    return response;
}

bool Service::drain(int64_t timeout_ms)
{
    std::unique_lock lock(m_flight_mutex);
    m_draining.store(true);
    return m_flight_done.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return m_in_flight == 0; });
}

net::HttpResponse Service::reload_response()
{
    if (!current()->reload_endpoint)
        return text_response(403, "reload_endpoint = false in the configuration: reload with SIGHUP\n");
    auto reloaded = reload();
    if (!reloaded)
        return text_response(422, "reload failed, configuration generation " + std::to_string(generation()) +
                                      " kept: " + std::string(reloaded.error().message()) + "\n");
    return text_response(200, "reloaded: configuration generation " + std::to_string(reloaded.value()) + "\n");
}

net::HttpResponse Service::handle_ops(const net::HttpRequest& request)
{
    std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
    bool get = request.method == "GET" || request.method == "HEAD";
    if (path == "/-/reload")
        return request.method == "POST" ? reload_response() : text_response(405, "POST /-/reload\n");
    if (path != "/metrics" && path != "/healthz" && path != "/readyz" && path != "/vms")
        return text_response(404, "this address serves /metrics, /vms, /healthz, /readyz and POST /-/reload\n");
    if (!get)
        return text_response(405, "GET " + std::string(path) + "\n");
    if (path == "/healthz")
        return text_response(200, "ok\n");
    if (path == "/vms")
        return text_response(200, current()->broker->vms_json(), "application/json");
    if (path == "/readyz") {
        if (m_draining.load())
            return text_response(503, "not ready: shutting down\n");
        std::shared_ptr<const Generation> g = current();
        if (auto ok = m_store.ping(); !ok)
            return text_response(503, "not ready: " + std::string(ok.error().message()) + "\n");  // names the store
        return text_response(200, "ready: configuration generation " + std::to_string(g->number) + ", store " +
                                      m_store.describe() + "\n");
    }
    return text_response(200, metrics_text(), "text/plain; version=0.0.4");
}

}  // namespace cvm::broker
