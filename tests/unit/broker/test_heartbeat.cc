// The heartbeat endpoint end to end over loopback (docs/cvmkb-1.md §9): the simulated platform's
// reports, the agent's heartbeat client, the broker's signed verdicts, last-seen per REPORT_ID,
// stale detection on a fake clock, the metrics, GET /vms and the webhooks against a local server.
#include <doctest.h>

#include <chrono>
#include <condition_variable>
#include <thread>

#include "attest_harness.h"
#include "base/toml_reader.h"
#include "client/heartbeat.h"
#include "heartbeat_toml.h"
#include "net/http_client.h"
#include "proto/heartbeat.h"
#include "service.h"

using namespace cvm;
using namespace cvm::test;

namespace {

// One VM: a simulated PSP (its REPORT_ID is fixed for the PSP's life) and its agent's client.
struct Vm {
    explicit Vm(const sim::LaunchState& launch = good_launch(), uint32_t at_vmpl = 0)
            : psp(sim::SimulatedPsp::create(simulated_platform(), launch).release_value()), vmpl(at_vmpl)
    {
    }
    client::EvidenceSource source() const
    {
        return [this](const proto::ReportData& rd) -> Result<client::HeartbeatEvidence> {
            client::HeartbeatEvidence e;
            e.report = TRY(psp.get_report(rd, vmpl));
            e.certs = certs_of_table(psp.cert_table());
            return e;
        };
    }
    Result<proto::HeartbeatVerdict> beat(const BrokerHarness& h, int64_t interval = 300) const
    {
        client::HeartbeatOptions o;
        o.broker_url = h.url();
        o.broker_key = h.broker->public_key();
        o.interval = interval;
        return client::heartbeat(o, source());
    }
    std::string report_id() const
    {
        proto::ReportData rd{};
        return to_hex(snp::parse_report(psp.get_report(rd, 0).value()).value().report_id);
    }

    sim::SimulatedPsp psp;
    uint32_t vmpl;
};

bool has(const std::string& text, const std::string& needle)
{
    return text.find(needle) != std::string::npos;
}

bool log_has(const BrokerHarness& h, const std::string& needle)
{
    for (const std::string& line : h.log_lines()) {
        if (has(line, needle))
            return true;
    }
    return false;
}

sim::LaunchState other_launch()
{
    sim::LaunchState l = good_launch();
    l.measurement.fill(0xbb);
    return l;
}

// A local webhook receiver: every POST body, in order.
class Receiver {
public:
    explicit Receiver(int status = 204)
    {
        net::ServerOptions o;
        m_server = net::HttpServer::start(o, [this, status](const net::HttpRequest& r) {
                       std::lock_guard lock(m_mutex);
                       m_bodies.emplace_back(r.body.begin(), r.body.end());
                       m_arrived.notify_all();
                       net::HttpResponse response;
                       response.status = status;
                       return response;
                   }).release_value();
    }
    ~Receiver() { m_server->stop(); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_server->port()) + "/hook"; }
    // Waits up to 5 s for `n` bodies.
    std::vector<std::string> wait_for(size_t n)
    {
        std::unique_lock lock(m_mutex);
        m_arrived.wait_for(lock, std::chrono::seconds(5), [&] { return m_bodies.size() >= n; });
        return m_bodies;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_arrived;
    std::vector<std::string> m_bodies;
    std::unique_ptr<net::HttpServer> m_server;
};

}  // namespace

TEST_CASE("heartbeat: an accepted heartbeat is signed, recorded per REPORT_ID and counted")
{
    BrokerHarness h;
    Vm vm;
    auto v = vm.beat(h);
    REQUIRE_MESSAGE(v.ok(), std::string(v.ok() ? "" : v.error().message()));
    CHECK(v->accepted);
    CHECK(v->interval == 300);
    CHECK(v->measurement == GOOD_MEASUREMENT);
    CHECK(v->report_id == vm.report_id());
    CHECK(v->time == h.clock.now());
    CHECK(log_has(h, "cvm broker: heartbeat accepted code=OK"));
    CHECK(log_has(h, "report_id=" + vm.report_id()));

    std::string metrics = h.broker->metrics_text();
    CHECK(has(metrics, "cvmkb_heartbeats_total{outcome=\"accepted\",code=\"OK\",simulated=\"true\"} 1\n"));
    CHECK(has(metrics, "cvmkb_vms{state=\"attesting\"} 1\n"));
    CHECK(has(metrics, "cvmkb_vms{state=\"stale\"} 0\n"));
    CHECK(has(metrics, "cvmkb_vm_heartbeat_age_seconds{report_id=\"" + vm.report_id() + "\"} 0\n"));
    h.clock.advance(42);
    CHECK(has(h.broker->metrics_text(), "cvmkb_vm_heartbeat_age_seconds{report_id=\"" + vm.report_id() + "\"} 42\n"));
    std::string vms = h.broker->vms_json();
    CHECK(has(vms, "\"report_id\":\"" + vm.report_id() + "\""));
    CHECK(has(vms, "\"interval\":300"));
    CHECK(has(vms, "\"state\":\"attesting\""));
    CHECK(has(vms, "\"stale_at\":" + std::to_string(h.clock.now() - 42 + 660)));
    // Nothing was released: no attest counted.
    CHECK_FALSE(has(metrics, "cvmkb_attests_total{"));
}

TEST_CASE("heartbeat: a refusal is the broker's signed verdict with the claim, and records nothing")
{
    BrokerHarness h;
    Vm vm(other_launch());
    auto v = vm.beat(h);
    REQUIRE(v.ok());
    CHECK_FALSE(v->accepted);
    REQUIRE(v->refusal);
    CHECK(v->refusal->code == proto::ErrorCode::MeasurementMismatch);
    CHECK(v->refusal->claim == "policy.measurement");
    CHECK(client::is_evidence_refusal(v->refusal->code));
    std::string metrics = h.broker->metrics_text();
    CHECK(
        has(metrics, "cvmkb_heartbeats_total{outcome=\"refused\",code=\"MEASUREMENT_MISMATCH\",simulated=\"true\"} 1"));
    CHECK(has(metrics, "cvmkb_vms{state=\"attesting\"} 0\n"));
    CHECK(log_has(h, "cvm broker: heartbeat refused code=MEASUREMENT_MISMATCH claim=policy.measurement"));

    Vm vmpl1(good_launch(), 1);
    auto refused = vmpl1.beat(h);
    REQUIRE(refused.ok());
    REQUIRE(refused->refusal);
    CHECK(refused->refusal->code == proto::ErrorCode::Vmpl);
}

TEST_CASE("heartbeat: attest evidence is not a heartbeat, heartbeat evidence releases nothing, a replay is refused")
{
    BrokerHarness h;
    Vm vm;
    auto post = [&](std::string_view path, const std::string& body) {
        net::Headers headers{{"Content-Type", "application/json"}};
        return net::http_post(h.url() + std::string(path),
                              ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), headers)
            .release_value();
    };
    auto nonce = [&] { return proto::parse_challenge(post(proto::CHALLENGE_PATH, "{}").body_text()).value().nonce; };

    // Evidence bound to a resource request, sent as a heartbeat: REPORT_DATA does not match.
    proto::HeartbeatRequest hb;
    hb.nonce = nonce();
    hb.pubkey.fill(9);
    std::string resources = proto::canonical_request({"data"}).value();
    hb.report = vm.psp.get_report(proto::report_data(hb.nonce, hb.pubkey, proto::request_hash(resources)), 0).value();
    hb.certs = certs_of_table(vm.psp.cert_table());
    hb.interval = 300;
    hb.canonical_request = proto::canonical_heartbeat_request(300).value();
    std::string body = proto::serialize_heartbeat_request(hb);
    net::HttpResponse r = post(proto::HEARTBEAT_PATH, body);
    auto v = proto::open_heartbeat_answer(
        h.broker->public_key(), ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), r.body_text());
    REQUIRE(v.ok());
    REQUIRE(v->refusal);
    CHECK(v->refusal->code == proto::ErrorCode::ReportDataMismatch);
    CHECK(r.status == 403);

    // Evidence bound to a heartbeat, sent as an attest for "data": refused, nothing sealed.
    proto::AttestRequest at;
    at.nonce = nonce();
    at.pubkey.fill(9);
    std::string heartbeat = proto::canonical_heartbeat_request(300).value();
    at.report = vm.psp.get_report(proto::report_data(at.nonce, at.pubkey, proto::request_hash(heartbeat)), 0).value();
    at.certs = hb.certs;
    at.resources = {"data"};
    at.canonical_request = resources;
    net::HttpResponse attest = post(proto::ATTEST_PATH, proto::serialize_attest_request(at));
    CHECK(attest.status == 403);
    CHECK(proto::parse_error(attest.body_text()).value().code == proto::ErrorCode::ReportDataMismatch);

    // A good heartbeat sent twice: the second is refused (signed) as a reused nonce, which an
    // agent must not take for a verdict on its evidence.
    hb.nonce = nonce();
    hb.report = vm.psp.get_report(proto::report_data(hb.nonce, hb.pubkey, proto::request_hash(heartbeat)), 0).value();
    body = proto::serialize_heartbeat_request(hb);
    ByteView sent(reinterpret_cast<const uint8_t*>(body.data()), body.size());
    CHECK(proto::open_heartbeat_answer(h.broker->public_key(), sent, post(proto::HEARTBEAT_PATH, body).body_text())
              .value()
              .accepted);
    auto again =
        proto::open_heartbeat_answer(h.broker->public_key(), sent, post(proto::HEARTBEAT_PATH, body).body_text());
    REQUIRE(again.ok());
    REQUIRE(again->refusal);
    CHECK(again->refusal->code == proto::ErrorCode::NonceReused);
    CHECK_FALSE(client::is_evidence_refusal(again->refusal->code));

    // A body that does not parse gets an unsigned error: the client reports it, never as a verdict.
    net::HttpResponse bad = post(proto::HEARTBEAT_PATH, "{\"request\":{}}");
    CHECK(bad.status == 400);
    CHECK_FALSE(proto::open_heartbeat_answer(h.broker->public_key(), ByteView(), bad.body_text()).ok());
}

TEST_CASE("heartbeat: stale after 2 x interval + grace, once; a new heartbeat makes the VM attesting again")
{
    BrokerHarness h("", "[heartbeat]\nstale_grace = 30\n");
    Vm vm;
    REQUIRE(vm.beat(h, 100).value().accepted);
    h.clock.advance(2 * 100 + 30);
    CHECK(h.broker->check_stale() == 0);  // exactly at the limit: not yet
    CHECK(has(h.broker->metrics_text(), "cvmkb_vms{state=\"attesting\"} 1\n"));
    h.clock.advance(1);
    CHECK(h.broker->check_stale() == 1);
    CHECK(h.broker->check_stale() == 0);  // once
    CHECK(log_has(h, "cvm broker: heartbeat stale report_id=" + vm.report_id()));
    std::string metrics = h.broker->metrics_text();
    CHECK(has(metrics, "cvmkb_vms{state=\"attesting\"} 0\n"));
    CHECK(has(metrics, "cvmkb_vms{state=\"stale\"} 1\n"));
    CHECK(has(h.broker->vms_json(), "\"state\":\"stale\""));

    REQUIRE(vm.beat(h, 100).value().accepted);
    CHECK(has(h.broker->metrics_text(), "cvmkb_vms{state=\"attesting\"} 1\n"));
    h.clock.advance(231);
    CHECK(h.broker->check_stale() == 1);  // stale again, as a new event
}

TEST_CASE("heartbeat: replicas sharing a store see each other's heartbeats and report a VM stale once")
{
    broker::MemoryStore store;
    BrokerHarness a("", "", true, &store);
    BrokerHarness b("", "", true, &store);
    Vm vm;
    REQUIRE(vm.beat(a, 100).value().accepted);
    a.clock.advance(150);
    b.clock.advance(150);
    REQUIRE(vm.beat(b, 100).value().accepted);  // the load balancer sent this one to b
    a.clock.advance(150);                       // a's own record is 300 s old: past 2 x 100 + 60
    b.clock.advance(150);
    CHECK(a.broker->check_stale() == 0);  // b's heartbeat, from the store
    CHECK(has(a.broker->metrics_text(), "cvmkb_vm_heartbeat_age_seconds{report_id=\"" + vm.report_id() + "\"} 150\n"));
    a.clock.advance(200);
    b.clock.advance(200);
    CHECK(a.broker->check_stale() + b.broker->check_stale() == 1);
}

TEST_CASE("heartbeat: on_stale and on_refused webhooks reach a local server without blocking the request")
{
    Receiver receiver;
    BrokerHarness h("", "[webhooks]\non_stale = \"" + receiver.url() + "\"\non_refused = \"" + receiver.url() +
                            "\"\ntimeout_ms = 2000\n");
    Vm vm;
    REQUIRE(vm.beat(h, 100).value().accepted);
    h.clock.advance(261);
    REQUIRE(h.broker->check_stale() == 1);
    std::vector<std::string> got = receiver.wait_for(1);
    REQUIRE(got.size() == 1);
    CHECK(has(got[0], "\"event\":\"stale\""));
    CHECK(has(got[0], "\"report_id\":\"" + vm.report_id() + "\""));
    CHECK(has(got[0], "\"measurement\":\"" + GOOD_MEASUREMENT + "\""));
    CHECK(has(got[0], "\"last_seen\":" + std::to_string(h.clock.now() - 261)));
    CHECK(has(got[0], "\"interval\":100"));

    // The same VM (REPORT_ID) refused: at VMPL 1, which the policy does not accept.
    vm.vmpl = 1;
    auto refused = vm.beat(h, 100);
    REQUIRE(refused.ok());
    REQUIRE(refused->refusal);
    got = receiver.wait_for(2);
    REQUIRE(got.size() == 2);
    CHECK(has(got[1], "\"event\":\"refused\""));
    CHECK(has(got[1], "\"code\":\"VMPL\""));
    CHECK(has(got[1], "\"claim\":\"policy.vmpl\""));
    CHECK(has(got[1], "\"verified\":true"));
    // At most one on_refused per interval for a VM.
    REQUIRE(vm.beat(h, 100).ok());
    CHECK(receiver.wait_for(3).size() == 2);
    // An unknown VM's refusal calls nobody (its REPORT_ID could be anyone's).
    Vm stranger(other_launch());
    REQUIRE(stranger.beat(h).ok());
    CHECK(receiver.wait_for(3).size() == 2);
    std::string metrics = h.broker->metrics_text();
    CHECK(has(metrics, "cvmkb_webhooks_total{event=\"stale\",result=\"sent\"} 1\n"));
    CHECK(has(metrics, "cvmkb_webhooks_total{event=\"refused\",result=\"sent\"} 1\n"));
}

TEST_CASE("webhooks: a failing endpoint is counted and logged, never retried; a full queue drops")
{
    Receiver failing(500);
    broker::Metrics metrics;
    std::vector<std::string> log;
    std::mutex log_mutex;
    broker::WebhookConfig config;
    config.on_stale = failing.url();
    config.timeout_ms = 1000;
    config.queue = 1;
    {
        broker::WebhookSender sender(config, metrics, [&](const std::string& line) {
            std::lock_guard lock(log_mutex);
            log.push_back(line);
        });
        broker::WebhookEvent e;
        e.report_id = "ab";
        CHECK(sender.enqueue(e));
        REQUIRE(sender.wait_idle(5000));
        e.kind = broker::WebhookEvent::Kind::Refused;
        CHECK_FALSE(sender.enqueue(e));  // no on_refused URL
    }
    std::string text = metrics.render({});
    CHECK(has(text, "cvmkb_webhooks_total{event=\"stale\",result=\"failed\"} 1\n"));
    REQUIRE_FALSE(log.empty());
    CHECK(has(log[0], "webhook on_stale failed for report_id=ab: HTTP 500 (not retried)"));

    // Nobody listening, a queue of one: the first event is being sent, the second waits, the
    // third is dropped at once.
    broker::Metrics m2;
    config.on_stale = "http://127.0.0.1:1/hook";
    broker::WebhookSender sender(config, m2, [](const std::string&) {});
    broker::WebhookEvent e;
    size_t accepted = 0;
    for (int i = 0; i < 20; ++i)
        accepted += sender.enqueue(e) ? 1 : 0;
    CHECK(accepted < 20);
    REQUIRE(sender.wait_idle(20000));
    std::string t2 = m2.render({});
    CHECK(has(t2, "cvmkb_webhooks_total{event=\"stale\",result=\"dropped\"} " + std::to_string(20 - accepted) + "\n"));
    CHECK(has(t2, "cvmkb_webhooks_total{event=\"stale\",result=\"failed\"} " + std::to_string(accepted) + "\n"));
}

TEST_CASE("heartbeat config: [webhooks] and [heartbeat] keys are checked and named")
{
    auto webhooks = [](const std::string& text) {
        toml::table t = parse_toml(text, "test").value();
        return broker::parse_webhooks_table(t, "/etc/cvm");
    };
    auto ok = webhooks("on_stale = \"https://ops.example/stale\"\ntimeout_ms = 100\nqueue = 1\nca_file = \"ca.pem\"\n");
    REQUIRE(ok.ok());
    CHECK(ok->on_stale == std::optional<std::string>("https://ops.example/stale"));
    CHECK_FALSE(ok->on_refused);
    CHECK(ok->ca_file == "/etc/cvm/ca.pem");
    struct Case {
        std::string text, key;
    };
    for (const Case& c : std::initializer_list<Case>{
             {"", "webhooks"},
             {"on_stale = \"ftp://x/\"", "webhooks.on_stale"},
             {"on_refused = 3", "webhooks.on_refused"},
             {"on_stale = \"http://x/\"\ntimeout_ms = 99", "webhooks.timeout_ms"},
             {"on_stale = \"http://x/\"\nqueue = 0", "webhooks.queue"},
             {"on_stale = \"http://x/\"\non_stall = \"http://x/\"", "on_stall"},
         }) {
        CAPTURE(c.text);
        auto r = webhooks(c.text);
        REQUIRE_FALSE(r.ok());
        CHECK(has(std::string(r.error().message()), c.key));
    }
    auto heartbeat = [](const std::string& text) {
        return broker::parse_heartbeat_table(parse_toml(text, "test").value());
    };
    CHECK(heartbeat("stale_grace = 0\nmax_vms = 1").value().grace_seconds == 0);
    CHECK(has(std::string(heartbeat("stale_grace = -1").error().message()), "heartbeat.stale_grace"));
    CHECK(has(std::string(heartbeat("max_vms = 0").error().message()), "heartbeat.max_vms"));
    CHECK(has(std::string(heartbeat("grace = 1").error().message()), "grace"));
}

TEST_CASE("heartbeat registry: a store value is read as untrusted; memory is bounded by max_vms")
{
    test::FakeClock clock;
    broker::MemoryStore store(&clock);
    broker::HeartbeatRegistry registry(store, {60, 2});
    auto vm = [](const std::string& id, int64_t last_seen) {
        broker::VmRecord r;
        r.report_id = id;
        r.measurement = GOOD_MEASUREMENT;
        r.interval = 100;
        r.last_seen = last_seen;
        return r;
    };
    int64_t t0 = clock.now();
    REQUIRE(registry.accepted(vm("a1", t0)).ok());
    auto key = [](const std::string& id) { return "cvmkb:heartbeat:" + id; };
    auto put = [&](const std::string& id, const std::string& value) {
        REQUIRE(store.put(key(id), ByteView(reinterpret_cast<const uint8_t*>(value.data()), value.size()), 0).ok());
    };
    // Whatever another "replica" wrote that is not a well-formed later record is no record: the
    // VM still goes stale on time.
    for (const std::string& bad :
         {std::string("v1 ") + std::to_string(t0 + 50) + " 100 " + GOOD_MEASUREMENT + " 2",
          std::string("v2 ") + std::to_string(t0 + 50) + " 100 " + GOOD_MEASUREMENT + " 0",
          std::string("v1 ") + std::to_string(t0 + 50) + " 100 " + GOOD_MEASUREMENT + " 0 x",
          std::string("v1 ") + std::to_string(t0 + 50) + " 0 " + GOOD_MEASUREMENT + " 0",
          std::string("v1 -5 100 ") + GOOD_MEASUREMENT + " 0",
          std::string("v1 ") + std::to_string(t0 + 50) + " 100 XYZ 0", std::string(300, '1'), std::string("")}) {
        CAPTURE(bad);
        put("a1", bad);
        CHECK(registry.scan(t0 + 261).size() == 1);
        REQUIRE(registry.accepted(vm("a1", t0)).ok());  // not stale again for the next case
        REQUIRE(store.put("cvmkb:heartbeat-stale:a1:" + std::to_string(t0), ByteView(), 1).ok());
        clock.advance(2);  // the stale claim expires
    }
    // A later heartbeat recorded in the future of this clock is not believed either.
    put("a1", "v1 " + std::to_string(t0 + 10'000) + " 100 " + GOOD_MEASUREMENT + " 0");
    CHECK(registry.scan(t0 + 261).size() == 1);

    // Two VMs at most: a third evicts the one heard from longest ago.
    REQUIRE(registry.accepted(vm("b2", t0 + 5)).ok());
    REQUIRE(registry.accepted(vm("c3", t0 + 6)).ok());
    CHECK_FALSE(registry.find("a1"));
    CHECK(registry.find("b2"));
    CHECK(registry.find("c3"));
    CHECK(registry.all().size() == 2);
    // A refusal never creates a record.
    CHECK_FALSE(registry.refused("d4", "CHAIN", t0));
    CHECK(registry.all().size() == 2);
}

TEST_CASE("heartbeat: the service keeps last-seen across a reload and serves GET /vms")
{
    BrokerFiles files;
    FakeClock clock;
    broker::MemoryStore store(&clock);
    std::string top = simulated_top(files) + "metrics_listen = \"127.0.0.1:0\"\n";
    files.write("broker.toml", broker_config_text("allow_simulated = true\n", top));
    auto config = broker::load_broker_config(files.dir() + "/broker.toml");
    REQUIRE(config.ok());
    broker::ServiceOptions options;
    options.store = &store;
    options.clock = &clock;
    options.log = [](const std::string&) {};
    options.stale_scan_ms = 0;
    auto service =
        broker::Service::create(files.dir() + "/broker.toml", config.release_value(), options).release_value();
    broker::Service* s = service.get();
    auto server = net::HttpServer::start(net::ServerOptions{}, [s](const net::HttpRequest& r) {
                      return s->handle(r);
                  }).release_value();
    Vm vm;
    client::HeartbeatOptions o;
    o.broker_url = "http://127.0.0.1:" + std::to_string(server->port());
    o.broker_key = service->broker()->public_key();
    o.interval = 100;
    REQUIRE(client::heartbeat(o, vm.source()).value().accepted);

    files.write("broker.toml", broker_config_text("allow_simulated = true\n", top + "[heartbeat]\nstale_grace = 5\n"));
    REQUIRE(service->reload().ok());
    net::HttpRequest get;
    get.method = "GET";
    get.target = "/vms";
    net::HttpResponse r = service->handle_ops(get);
    std::string body(r.body.begin(), r.body.end());
    CHECK(r.status == 200);
    CHECK(has(body, "\"grace\":5"));
    CHECK(has(body, "\"report_id\":\"" + vm.report_id() + "\""));
    CHECK(has(body, "\"stale_at\":" + std::to_string(clock.now() + 205)));
    CHECK(has(service->metrics_text(), "cvmkb_vms{state=\"attesting\"} 1\n"));
    clock.advance(206);
    CHECK(has(service->metrics_text(), "cvmkb_vms{state=\"stale\"} 1\n"));
    server->stop();
}
