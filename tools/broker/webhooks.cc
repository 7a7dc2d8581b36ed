#include "webhooks.h"

#include <yyjson.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "net/http_client.h"
#include "proto/json.h"

namespace cvm::broker {

const char* event_name(WebhookEvent::Kind kind)
{
    return kind == WebhookEvent::Kind::Stale ? "stale" : "refused";
}

std::string webhook_body(const WebhookEvent& e)
{
    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    yyjson_mut_val* root = yyjson_mut_obj(doc);
    yyjson_mut_doc_set_root(doc, root);
    auto str = [&](const char* key, std::string_view v) {
        yyjson_mut_obj_add_val(doc, root, key, yyjson_mut_strncpy(doc, v.data(), v.size()));
    };
    auto num = [&](const char* key, int64_t v) { yyjson_mut_obj_add_val(doc, root, key, yyjson_mut_sint(doc, v)); };
    str("event", event_name(e.kind));
    str("report_id", e.report_id);
    str("measurement", e.measurement);
    num("last_seen", e.last_seen);
    num("interval", e.interval);
    num("time", e.time);
    yyjson_mut_obj_add_val(doc, root, "simulated", yyjson_mut_bool(doc, e.simulated));
    if (e.kind == WebhookEvent::Kind::Refused) {
        str("code", e.code);
        if (!e.claim.empty())
            str("claim", e.claim);
        str("detail", e.detail);
        yyjson_mut_obj_add_val(doc, root, "verified", yyjson_mut_bool(doc, e.verified));
    }
    std::string out = proto::write_json(doc);
    yyjson_mut_doc_free(doc);
    return out;
}

struct WebhookSender::State {
    WebhookConfig config;
    Metrics& metrics;
    std::function<void(const std::string&)> log;
    std::mutex mutex;
    std::condition_variable wake, idle;
    std::deque<WebhookEvent> queue;
    bool busy{false};
    bool stop{false};
    std::thread thread;

    State(WebhookConfig c, Metrics& m, std::function<void(const std::string&)> l)
            : config(std::move(c)), metrics(m), log(std::move(l))
    {
    }
    void say(const std::string& line) const
    {
        if (log)
            log(line);
        else
            fprintf(stderr, "%s\n", line.c_str());
    }
    const std::optional<std::string>& url(WebhookEvent::Kind kind) const
    {
        return kind == WebhookEvent::Kind::Stale ? config.on_stale : config.on_refused;
    }
    void send(const WebhookEvent& e);
    void run();
};

void WebhookSender::State::send(const WebhookEvent& e)
{
    std::string body = webhook_body(e);
    net::HttpOptions http;
    http.connect_timeout_ms = config.timeout_ms;
    http.io_timeout_ms = config.timeout_ms;
    http.total_timeout_ms = config.timeout_ms;
    if (!config.ca_file.empty())
        http.ca_file = config.ca_file;
    net::Headers headers{{"Content-Type", "application/json"}};
    auto r = net::http_post(*url(e.kind), ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), headers,
                            http);
    bool ok = r && r->status >= 200 && r->status < 300;
    metrics.webhook(event_name(e.kind), ok ? "sent" : "failed");
    if (!ok)
        say(std::string("cvm broker: webhook on_") + event_name(e.kind) + " failed for report_id=" + e.report_id +
            ": " + (r ? "HTTP " + std::to_string(r->status) : std::string(r.error().message())) + " (not retried)");
}

void WebhookSender::State::run()
{
    std::unique_lock lock(mutex);
    for (;;) {
        wake.wait(lock, [this] { return stop || !queue.empty(); });
        if (stop)
            break;
        WebhookEvent e = std::move(queue.front());
        queue.pop_front();
        busy = true;
        lock.unlock();
        send(e);
        lock.lock();
        busy = false;
        idle.notify_all();
    }
    for (const WebhookEvent& e : queue) {
        metrics.webhook(event_name(e.kind), "dropped");
        say(std::string("cvm broker: webhook on_") + event_name(e.kind) + " dropped for report_id=" + e.report_id +
            ": the broker is reloading or stopping");
    }
    queue.clear();
    idle.notify_all();
}

WebhookSender::WebhookSender(WebhookConfig config, Metrics& metrics, std::function<void(const std::string&)> log)
        : m_state(std::make_shared<State>(std::move(config), metrics, std::move(log)))
{
    m_state->thread = std::thread([state = m_state.get()] { state->run(); });
}

WebhookSender::~WebhookSender()
{
    {
        std::lock_guard lock(m_state->mutex);
        m_state->stop = true;
    }
    m_state->wake.notify_all();
    m_state->thread.join();  // at most one POST's timeout
}

bool WebhookSender::enqueue(WebhookEvent event)
{
    if (!m_state->url(event.kind))
        return false;
    {
        std::lock_guard lock(m_state->mutex);
        if (m_state->queue.size() < m_state->config.queue) {
            m_state->queue.push_back(std::move(event));
            m_state->wake.notify_one();
            return true;
        }
    }
    m_state->metrics.webhook(event_name(event.kind), "dropped");
    m_state->say(std::string("cvm broker: webhook on_") + event_name(event.kind) + " dropped for report_id=" +
                 event.report_id + ": the queue of " + std::to_string(m_state->config.queue) + " is full");
    return false;
}

bool WebhookSender::wait_idle(int64_t timeout_ms)
{
    std::unique_lock lock(m_state->mutex);
    return m_state->idle.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                  [this] { return m_state->queue.empty() && !m_state->busy; });
}

}  // namespace cvm::broker
