// The broker's webhooks (docs/broker.md, "[webhooks]"): a JSON POST to an operator's URL when a
// VM goes stale (heartbeats.h) or a heartbeat is refused.
//
//   {"event": "stale" | "refused", "report_id", "measurement", "last_seen", "interval",
//    "time", "simulated", and for "refused": "code", "claim"?, "detail", "verified"}
//
// enqueue() never blocks request handling: events go into a bounded queue (`queue` entries) that
// one thread of the sender empties, one POST at a time, each bounded by `timeout_ms`. A full
// queue drops the event; a POST that fails (no answer in time, or a status other than 2xx) is
// not retried. Each outcome is counted in cvmkb_webhooks_total{event,result="sent"|"failed"|
// "dropped"} and each failure or drop logged with the event and REPORT_ID. Events still queued
// when the sender is destroyed (a reload or shutdown) are dropped and counted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "metrics.h"

namespace cvm::broker {

struct WebhookConfig {
    std::optional<std::string> on_stale;    // http:// or https:// URL
    std::optional<std::string> on_refused;  // likewise
    int64_t timeout_ms = 5000;
    size_t queue = 256;
    std::string ca_file;  // empty: the system's CA bundle (https)
};

struct WebhookEvent {
    enum class Kind : uint8_t { Stale, Refused } kind{Kind::Stale};
    std::string report_id;  // hex
    std::string measurement;
    int64_t last_seen{0};  // 0: never accepted (a refused VM the broker had not heard from)
    int64_t interval{0};
    int64_t time{0};  // when the broker decided
    bool simulated{false};
    std::string code, claim, detail;  // Refused
    // Refused: the report's chain and signature verified (a policy claim failed), so REPORT_ID
    // and MEASUREMENT are the platform's; false: they are what the request said.
    bool verified{false};
};

const char* event_name(WebhookEvent::Kind kind);
// The JSON body of `event` (above).
std::string webhook_body(const WebhookEvent& event);

class WebhookSender {
public:
    WebhookSender(WebhookConfig config, Metrics& metrics, std::function<void(const std::string&)> log);
    ~WebhookSender();
    WebhookSender(const WebhookSender&) = delete;
    WebhookSender& operator=(const WebhookSender&) = delete;

    // Queues `event` for its URL; false when none is configured for its kind, or the queue is
    // full (dropped, counted, logged).
    bool enqueue(WebhookEvent event);

    // Waits up to `timeout_ms` until the queue is empty and no POST is in progress (for tests
    // and a clean shutdown); true when it is.
    bool wait_idle(int64_t timeout_ms);

private:
    struct State;
    std::shared_ptr<State> m_state;
};

}  // namespace cvm::broker
