#include "broker.h"

#include <cstdio>

#include <sodium.h>

#include "proto/heartbeat.h"
#include "responses.h"

namespace cvm::broker {
net::HttpResponse json_response(int status, std::string body)
{
    net::HttpResponse r;
    r.status = status;
    r.headers.add("Content-Type", std::string(proto::JSON_TYPE));
    r.headers.add("Cache-Control", "no-store");
    r.body.assign(body.begin(), body.end());
    return r;
}

net::HttpResponse error_response(const proto::ErrorBody& error)
{
    net::HttpResponse r = json_response(proto::http_status(error.code), proto::serialize_error(error));
    if (error.code == proto::ErrorCode::KdsUnavailable)
        r.headers.add("Retry-After", "5");
    else if (error.code == proto::ErrorCode::KdsBudget)  // the budget window (vcek_source.h)
        r.headers.add("Retry-After", std::to_string(VcekSourceOptions{}.budget_window_seconds));
    else if (error.code == proto::ErrorCode::StoreUnavailable)
        r.headers.add("Retry-After", "1");  // the broker recovers as soon as the store answers
    return r;
}

Broker::Broker(BrokerConfig config, BrokerOptions options)
        : m_config(std::move(config)), m_options(std::move(options)),
          m_own_metrics(m_options.metrics ? nullptr : std::make_unique<Metrics>()),
          m_metrics(m_options.metrics ? *m_options.metrics : *m_own_metrics),
          m_own_heartbeats(m_options.heartbeats
                               ? nullptr
                               : std::make_unique<HeartbeatRegistry>(m_options.store ? *m_options.store : own_store(),
                                                                     m_config.heartbeat)),
          m_heartbeats(m_options.heartbeats ? *m_options.heartbeats : *m_own_heartbeats)
{
    if (!m_options.store)
        own_store();
}

Store& Broker::own_store()
{
    m_own_store = std::make_unique<MemoryStore>(m_options.clock);
    m_options.store = m_own_store.get();
    return *m_own_store;
}

Broker::~Broker()
{
    m_scanner.reset();  // before the webhooks and the registry it uses
    m_webhooks.reset();
}

size_t Broker::check_stale()
{
    int64_t time = now();
    size_t errors = 0;
    std::vector<VmRecord> stale = m_heartbeats.scan(time, &errors);
    if (errors)
        log("cvm broker: stale check: the store failed for " + std::to_string(errors) +
            " VMs; they are looked at again next time");
    for (const VmRecord& vm : stale) {
        log("cvm broker: heartbeat stale report_id=" + vm.report_id + " measurement=" + vm.measurement +
            " last_seen=" + std::to_string(vm.last_seen) + " interval=" + std::to_string(vm.interval) +
            " silent_s=" + std::to_string(time - vm.last_seen) + (vm.simulated ? " SIMULATED" : ""));
        if (m_webhooks) {
            WebhookEvent e;
            e.kind = WebhookEvent::Kind::Stale;
            e.report_id = vm.report_id;
            e.measurement = vm.measurement;
            e.last_seen = vm.last_seen;
            e.interval = vm.interval;
            e.time = time;
            e.simulated = vm.simulated;
            m_webhooks->enqueue(std::move(e));
        }
    }
    return stale.size();
}

std::string Broker::vms_json()
{
    int64_t time = now();
    std::string out = "{\"time\":" + std::to_string(time) +
                      ",\"grace\":" + std::to_string(m_heartbeats.grace_seconds()) + ",\"vms\":[";
    bool first = true;
    for (const VmRecord& vm : m_heartbeats.all()) {
        bool stale = vm.stale || time > m_heartbeats.stale_at(vm);
        out += std::string(first ? "" : ",") + "{\"report_id\":\"" + vm.report_id + "\",\"measurement\":\"" +
               vm.measurement + "\",\"interval\":" + std::to_string(vm.interval) +
               ",\"last_seen\":" + std::to_string(vm.last_seen) +
               ",\"stale_at\":" + std::to_string(m_heartbeats.stale_at(vm)) + ",\"state\":\"" +
               (stale ? "stale" : "attesting") + "\",\"simulated\":" + (vm.simulated ? "true" : "false");
        if (vm.last_refused)  // codes are our own names: no escaping needed
            out += ",\"last_refused\":" + std::to_string(vm.last_refused) + ",\"refused_code\":\"" + vm.refused_code +
                   "\"";
        out += "}";
        first = false;
    }
    return out + "]}\n";
}

Result<std::unique_ptr<Broker>> Broker::create(BrokerConfig config, BrokerOptions options)
{
    std::unique_ptr<Broker> b(new Broker(std::move(config), std::move(options)));
    // A store in this process's memory knows no nonce used before it was made; with a key that
    // outlives the process (a configured nonce_key), earlier nonces are refused (nonces.h).
    std::optional<int64_t> remembers_since = b->m_options.store->remembers_since();
    int64_t not_before = b->m_config.nonce_key && remembers_since ? *remembers_since : 0;
    Secret<32> nonce_key;
    if (b->m_config.nonce_key)
        std::copy_n(b->m_config.nonce_key->expose().begin(), 32, nonce_key.expose().begin());
    else
        randombytes_buf(nonce_key.expose().data(), nonce_key.size());
    b->m_nonces = std::make_unique<NonceIssuer>(std::move(nonce_key), b->m_config.nonce_lifetime, *b->m_options.store,
                                                not_before);

    verify::VerifierOptions verifier_options;
    const std::vector<Bytes>& crls = b->m_config.simulated_crls;
    for (size_t i = 0; i < b->m_config.simulated_roots.size(); ++i)
        b->m_simulated.push_back({TRY(verify::Certificate::parse_der(b->m_config.simulated_roots[i].der())),
                                  i < crls.size() ? crls[i] : Bytes{}});
    verifier_options.trusted_roots = std::move(b->m_config.simulated_roots);
    b->m_verifier = TRY(verify::Verifier::create(std::move(verifier_options)));
    if (b->m_config.kds) {
        if (b->m_options.clock)
            b->m_config.kds->clock = b->m_options.clock;
        kds::Clock& clock = b->m_options.clock ? *b->m_options.clock : kds::system_clock();
        b->m_vceks = std::make_unique<VcekSource>(TRY(kds::KdsClient::create(*b->m_config.kds)), *b->m_options.store,
                                                  b->m_metrics, clock);
    }
    if (b->m_config.webhooks)
        b->m_webhooks = std::make_unique<WebhookSender>(*b->m_config.webhooks, b->m_metrics, b->m_options.log);
    if (b->m_options.stale_scan_ms > 0)
        b->m_scanner =
            std::make_unique<PeriodicTask>(b->m_options.stale_scan_ms, [raw = b.get()] { raw->check_stale(); });
    return b;
}

int64_t Broker::now()
{
    return m_options.clock ? m_options.clock->now() : kds::system_clock().now();
}

void Broker::log(const std::string& line) const
{
    if (m_options.log)
        m_options.log(line);
    else
        fprintf(stderr, "%s\n", line.c_str());
}

std::string Broker::metrics_text() const
{
    verify::CacheStats stats = m_verifier->cache_stats();
    int64_t time = m_options.clock ? m_options.clock->now() : kds::system_clock().now();
    return m_metrics.render({stats.vek_hits + stats.chain_hits, stats.vek_misses + stats.chain_misses}) +
           Metrics::render_vms(m_heartbeats.summary(time));
}

net::HttpResponse Broker::handle(const net::HttpRequest& request)
{
    std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
    if (path != proto::CHALLENGE_PATH && path != proto::ATTEST_PATH && path != proto::ATTEST_RATLS_PATH &&
        path != proto::HEARTBEAT_PATH)
        return error_response(proto::error_body(proto::ErrorCode::NotFound,
                                                "cvmkb/1 has /cvmkb/v1/challenge, /cvmkb/v1/attest, "
                                                "/cvmkb/v1/attest-ratls and /cvmkb/v1/heartbeat"));
    if (request.method != "POST")
        return error_response(proto::error_body(proto::ErrorCode::MethodNotAllowed, "cvmkb/1 endpoints take POST"));
    if (path == proto::HEARTBEAT_PATH)
        return heartbeat(request);
    return path == proto::CHALLENGE_PATH ? challenge(request) : attest(request);
}

net::HttpResponse Broker::challenge(const net::HttpRequest& request)
{
    std::string_view body(reinterpret_cast<const char*>(request.body.data()), request.body.size());
    if (auto ok = proto::check_challenge_request(body); !ok)
        return error_response(proto::error_body(proto::ErrorCode::BadRequest, std::string(ok.error().message())));
    m_metrics.challenge_issued();
    proto::Challenge c{m_nonces->issue(now()), m_nonces->lifetime_seconds()};
    return json_response(200, proto::serialize_challenge(c));
}

}  // namespace cvm::broker
