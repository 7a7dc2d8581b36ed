// The three starvation attacks of issue 13 against an in-process broker on loopback, each while
// legitimate agents attest. Every test measures the agents' latency without and with the attack,
// in alternating blocks (so that whatever else loads this machine weighs on both alike), and
// checks that every legitimate attest succeeds and that the p99 under attack stays under twice
// the p99 without it. Bounded: a fixed number of attests and attack steps, loopback only.
//
//   a) 70 slow connections from one address (127.0.0.2) — per-peer cap, header deadline;
//   b) attests carrying an ASK with an RSA-8192 key and a 8190-bit exponent — key shapes, no
//      global verification lock;
//   c) twelve reports with random CHIP_IDs, the broker's [kds] at a fake KDS with a quota —
//      per-client budget, negative cache, per-object 429; new legitimate chips get their VCEK.
//
// Suite 'starvation' (scripts/test runs it in the native build only: the timings mean nothing
// under ASan), is_parallel: false, so meson runs nothing beside it.
#include <doctest.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "attest_harness.h"
#include "fake_kds.h"
#include "hostile_certs.h"
#include "kds/kds_url.h"
#include "proto/errors.h"
#include "proto/messages.h"
#include "raw_server.h"
#include "sim/crl.h"
#include "sim/psp.h"
#include "snp/report.h"
#include "verify/certificate.h"

using namespace cvm;
using namespace cvm::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Alternating blocks, without then with the attack, short enough that a burst of load from
// elsewhere on the machine falls on both sides alike: 300 samples per side.
constexpr int ROUNDS = 10;
constexpr int PER_BLOCK = 30;

double ms_since(Clock::time_point t)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double p99(std::vector<double> v)
{
    REQUIRE_FALSE(v.empty());
    std::sort(v.begin(), v.end());
    size_t rank = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(v.size())));
    return v[std::max<size_t>(rank, 1) - 1];
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// An attack that runs on its own threads between start() and stop().
class Attack {
public:
    virtual ~Attack() = default;
    virtual void start() = 0;
    virtual void stop() = 0;
};

struct Outcome {
    std::vector<double> unloaded, loaded;
    std::vector<std::string> failures;
};

// `agent` runs one legitimate attest and returns an error message, "" on success.
Outcome measure(const std::function<std::string()>& agent, Attack& attack, const char* name)
{
    Outcome o;
    for (int i = 0; i < 5; ++i)  // warm up: caches, first connections
        agent();
    auto block = [&](std::vector<double>& into) {
        for (int i = 0; i < PER_BLOCK; ++i) {
            auto start = Clock::now();
            std::string failed = agent();
            into.push_back(ms_since(start));
            if (!failed.empty())
                o.failures.push_back(failed);
        }
    };
    for (int r = 0; r < ROUNDS; ++r) {
        block(o.unloaded);
        attack.start();
        std::this_thread::sleep_for(200ms);  // let the attack take hold
        block(o.loaded);
        attack.stop();
    }
    MESSAGE(std::string(name) << ": " << o.unloaded.size() << " attests without the attack: p50 " << median(o.unloaded)
                              << " ms, p99 " << p99(o.unloaded) << " ms; " << o.loaded.size() << " with it: p50 "
                              << median(o.loaded) << " ms, p99 " << p99(o.loaded) << " ms (ratio "
                              << p99(o.loaded) / p99(o.unloaded) << ")");
    return o;
}

void check_outcome(const Outcome& o)
{
    CHECK(o.failures.empty());
    if (!o.failures.empty())
        MESSAGE("first failure: " << o.failures.front());
    CHECK(p99(o.loaded) < 2 * p99(o.unloaded));
}

std::string attest_once(BrokerHarness& h)
{
    auto r = h.attest({"db"});
    return r.ok() ? "" : std::string(r.error().message());
}

// Which of an agent's DER certificates is which, by subject.
size_t index_of(const std::vector<Bytes>& certs, bool want_vcek)
{
    for (size_t i = 0; i < certs.size(); ++i) {
        auto c = verify::Certificate::parse_der(certs[i]);
        REQUIRE(c.ok());
        bool vcek = !c->is_ca();
        bool ark = c->self_issued();
        if (want_vcek ? vcek : (!vcek && !ark))
            return i;
    }
    FAIL("no such certificate");
    return 0;
}

// a) Slowloris from 127.0.0.2: keeps SLOW connections open, trickling header bytes, reopening
// any the server closes (at most once per second per connection).
class SlowConnections final : public Attack {
public:
    static constexpr int SLOW = 70;
    SlowConnections(uint16_t port) : m_port(port) {}
    ~SlowConnections() override { stop(); }

    void start() override
    {
        m_stop = false;
        m_thread = std::thread([this] { run(); });
    }
    void stop() override
    {
        m_stop = true;
        if (m_thread.joinable())
            m_thread.join();
    }
    int refused() const { return m_refused.load(); }
    int opened() const { return m_opened.load(); }

private:
    void run()
    {
        std::vector<UniqueFd> conns(SLOW);
        std::vector<size_t> sent(SLOW, 0);
        std::vector<Clock::time_point> opened_at(SLOW, Clock::now() - 1s);
        const std::string header =
            "POST /cvmkb/v1/attest HTTP/1.1\r\nHost: broker\r\nX-Slow: " + std::string(4096, 's');
        while (!m_stop) {
            for (int i = 0; i < SLOW && !m_stop; ++i) {
                if (!conns[i].valid()) {
                    if (Clock::now() - opened_at[i] < 1s)
                        continue;
                    opened_at[i] = Clock::now();
                    conns[i] = fakes::loopback_connect_from("127.0.0.2", m_port);
                    sent[i] = 0;
                    ++m_opened;
                }
                // One byte per connection per pass; a closed or refused one is reopened next pass.
                char buf[512];
                ssize_t got = recv(conns[i].get(), buf, sizeof buf, MSG_DONTWAIT);
                if (got == 0 || (got > 0 && std::strstr(std::string(buf, static_cast<size_t>(got)).c_str(), " 503 "))) {
                    m_refused += got > 0;
                    conns[i].reset();
                    continue;
                }
                if (sent[i] < header.size() &&
                    send(conns[i].get(), &header[sent[i]], 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
                    ++sent[i];
            }
            std::this_thread::sleep_for(50ms);
        }
    }

    uint16_t m_port;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
    std::atomic<int> m_refused{0}, m_opened{0};
};

// b) Attests whose ASK carries an RSA-8192 key with a 8190-bit exponent (and whose VCEK carries
// a 1024-byte signature, so that a verifier without the shape rule would compute it), sent back
// by one client at HOSTILE_PER_SECOND (before the key-shape rule, each cost ~0.75 s of CPU under
// the one verification lock: a single one per second starved every agent). Like a real attacker it prepares its
// evidence once and only writes each new REPORT_DATA into the report (the signature no longer verifies, which the
// broker learns only after the chain): its own CPU time, spent on this machine too, stays small.
class HostileChains final : public Attack {
public:
    static constexpr int HOSTILE_PER_SECOND = 25;
    explicit HostileChains(BrokerHarness& h) : m_h(h) {}
    ~HostileChains() override { stop(); }

    void start() override
    {
        m_stop = false;
        proto::ReportData marker;
        marker.fill(0x5a);
        auto prepared = m_h.report(marker);
        std::vector<Bytes> certs = prepared.certs;
        size_t ask = index_of(certs, false), vcek = index_of(certs, true);
        certs[ask] = with_public_key(certs[ask], rsa_spki(8192, odd_exponent(8190)));
        certs[vcek] = with_signature_size(certs[vcek], 1024);
        auto at = std::search(prepared.report.begin(), prepared.report.end(), marker.begin(), marker.end());
        REQUIRE(at != prepared.report.end());
        const auto offset = at - prepared.report.begin();
        m_thread = std::thread([this, report = prepared.report, certs, offset]() mutable {
            auto next = Clock::now();
            while (!m_stop) {
                std::this_thread::sleep_until(next);
                next += std::chrono::milliseconds(1000 / HOSTILE_PER_SECOND);
                auto session = client::Session::begin(m_h.client({"db"}));
                if (!session.ok())
                    continue;
                const proto::ReportData& data = session->report_data();
                std::copy(data.begin(), data.end(), report.begin() + offset);
                auto r = session->complete(report, certs);
                ++m_sent;
                if (!r.ok() && session->last_refusal() && session->last_refusal()->code == proto::ErrorCode::Chain)
                    ++m_refused_chain;
            }
        });
    }
    void stop() override
    {
        m_stop = true;
        if (m_thread.joinable())
            m_thread.join();
    }
    int sent() const { return m_sent.load(); }
    int refused_chain() const { return m_refused_chain.load(); }

private:
    BrokerHarness& m_h;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
    std::atomic<int> m_sent{0}, m_refused_chain{0};
};

}  // namespace

TEST_CASE("starvation a) 70 slow connections from one address while agents attest")
{
    BrokerHarness h;
    SlowConnections attack(h.server->port());
    Outcome o = measure([&] { return attest_once(h); }, attack, "a) 70 slow connections");
    check_outcome(o);
    MESSAGE("the attacker opened " << attack.opened() << " connections; " << attack.refused()
                                   << " were refused with 503 at once (per-peer cap)");
    CHECK(attack.refused() >= SlowConnections::SLOW - 8);  // the cap held the rest back
}

TEST_CASE("starvation a') the same attack without the per-peer cap and header deadline holds every slot")
{
    // The control: the limits, not luck, keep agents served above.
    BrokerHarness h("", "max_connections_per_peer = 0\nheader_timeout_ms = 60000\n");
    SlowConnections attack(h.server->port());
    attack.start();
    std::this_thread::sleep_for(1500ms);
    int failed = 0;
    for (int i = 0; i < 3; ++i)
        failed += !attest_once(h).empty();
    attack.stop();
    CHECK(failed == 3);
}

TEST_CASE("starvation b) hostile RSA-8192 / huge-exponent ASK chains in parallel with legitimate attests")
{
    BrokerHarness h;
    HostileChains attack(h);
    Outcome o = measure([&] { return attest_once(h); }, attack, "b) hostile chains");
    check_outcome(o);
    MESSAGE("hostile attests sent: " << attack.sent() << ", refused with CHAIN: " << attack.refused_chain());
    CHECK(attack.sent() > 0);
    CHECK(attack.refused_chain() == attack.sent());
}

namespace {

// A broker with [kds] at `kds_url`, trusting the simulated roots of both platforms.
struct KdsBroker {
    BrokerFiles files;
    FakeClock clock;
    std::unique_ptr<broker::Broker> broker;
    std::unique_ptr<net::HttpServer> server;

    KdsBroker(const std::string& kds_url, const sim::Platform& second)
    {
        std::string top = simulated_top(files) + "[kds]\nurl = \"" + kds_url + "\"\ntimeout = 5\n";
        auto config = broker::parse_broker_config(broker_config_text("allow_simulated = true\n", top), files.dir());
        REQUIRE_MESSAGE(config.ok(), std::string(config.ok() ? "" : config.error().message()));
        config->simulated_roots.push_back(verify::Certificate::parse_der(second.ark_der).release_value());
        config->simulated_crls.push_back(sim::make_crl(second, {}).release_value());  // revocation stays on
        net::ServerOptions options = config->server;
        broker::BrokerOptions o;
        o.clock = &clock;
        o.log = [](const std::string&) {};
        broker = broker::Broker::create(config.release_value(), o).release_value();
        broker::Broker* b = broker.get();
        server =
            net::HttpServer::start(options, [b](const net::HttpRequest& r) { return b->handle(r); }).release_value();
    }
    ~KdsBroker() { server->stop(); }

    client::ClientOptions client() const
    {
        client::ClientOptions o;
        o.broker_url = "http://127.0.0.1:" + std::to_string(server->port());
        o.broker_key = broker->public_key();
        o.resources = {"db"};
        return o;
    }
};

// The agent's report and its ASK and ARK, without the VCEK: the broker must get it from KDS.
struct AgentEvidence {
    Bytes report;
    std::vector<Bytes> certs;
};
AgentEvidence evidence_without_vcek(const sim::Platform& platform, const proto::ReportData& report_data)
{
    auto psp = sim::SimulatedPsp::create(platform, good_launch()).release_value();
    AgentEvidence e;
    e.report = psp.get_report(report_data, 0).release_value();
    e.certs = certs_of_table(psp.cert_table());
    e.certs.erase(e.certs.begin() + static_cast<std::ptrdiff_t>(index_of(e.certs, true)));
    return e;
}

std::string attest_chip(KdsBroker& b, const sim::Platform& platform)
{
    auto session = client::Session::begin(b.client());
    if (!session.ok())
        return std::string(session.error().message());
    AgentEvidence e = evidence_without_vcek(platform, session->report_data());
    auto r = session->complete(e.report, e.certs);
    return r.ok() ? "" : std::string(r.error().message());
}

// c) One client (127.0.0.2) sends reports whose CHIP_ID it replaced with random bytes, so that
// the broker must ask KDS for VCEKs that do not exist. The requests enter Broker::handle with
// that peer address, as the HTTP server hands them over.
class RandomChips final : public Attack {
public:
    static constexpr int REPORTS = 12;
    explicit RandomChips(KdsBroker& b) : m_b(b) {}
    ~RandomChips() override { stop(); }

    // Sends REPORTS reports with random CHIP_IDs; returns the error codes the broker answered.
    std::vector<std::string> burst()
    {
        std::vector<std::string> codes;
        const sim::ChipId& real = simulated_platform().chip_id;
        for (int i = 0; i < REPORTS; ++i) {
            auto session = client::Session::begin(m_b.client());
            REQUIRE(session.ok());
            AgentEvidence e = evidence_without_vcek(simulated_platform(), session->report_data());
            auto at = std::search(e.report.begin(), e.report.end(), real.begin(), real.end());
            REQUIRE(at != e.report.end());
            for (size_t k = 0; k < real.size(); ++k)
                at[static_cast<std::ptrdiff_t>(k)] = static_cast<uint8_t>(m_rng() | 1);
            std::string body = proto::serialize_attest_request(session->request(e.report, e.certs));
            net::HttpRequest request{"POST",
                                     "/cvmkb/v1/attest",
                                     {{"Content-Type", "application/json"}},
                                     Bytes(body.begin(), body.end()),
                                     "127.0.0.2:40000",
                                     {}};
            net::HttpResponse answer = m_b.broker->handle(request);
            std::optional<proto::ErrorBody> refusal;
            (void)client::refusal_error(answer, &refusal);
            codes.push_back(refusal ? std::string(proto::error_code_name(refusal->code)) : "none");
        }
        m_sent += REPORTS;
        return codes;
    }

    void start() override
    {
        m_stop = false;
        m_thread = std::thread([this] {
            if (!m_stop)
                burst();
        });
    }
    void stop() override
    {
        m_stop = true;
        if (m_thread.joinable())
            m_thread.join();
    }
    int sent() const { return m_sent.load(); }

private:
    KdsBroker& m_b;
    std::minstd_rand m_rng{13};
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
    std::atomic<int> m_sent{0};
};

}  // namespace

TEST_CASE("starvation c) twelve reports with random CHIP_IDs against a KDS quota; new legitimate chips get their VCEK")
{
    // A second legitimate chip: a simulated platform of its own (two RSA-4096 key generations).
    static const sim::Platform second = sim::create_platform({}).release_value();
    const sim::Platform& first = simulated_platform();
    auto kds = fakes::FakeKds::start();
    for (const sim::Platform* p : {&first, &second}) {
        snp::AttestationReport r =
            snp::parse_report(
                sim::SimulatedPsp::create(*p, good_launch()).release_value().get_report({}, 0).release_value())
                .release_value();
        kds->serve(kds::vcek_path(kds::vcek_id(r, std::nullopt).release_value()), p->vcek_der);
    }
    constexpr size_t QUOTA = 10;  // less than twelve: without the budget the flood would spend it
    kds->set_quota(QUOTA, 300);
    KdsBroker b(kds->base_url(), second);
    RandomChips attack(b);

    // The flood first: four look-ups reach KDS (404, remembered), eight are refused by the budget.
    std::vector<std::string> codes = attack.burst();
    CHECK(std::count(codes.begin(), codes.end(), "CHAIN") == 4);
    CHECK(std::count(codes.begin(), codes.end(), "KDS_BUDGET") == 8);
    CHECK(kds->requests() == 4);
    // Then two chips the broker has never seen: each gets its VCEK from KDS.
    CHECK(attest_chip(b, first) == "");
    CHECK(attest_chip(b, second) == "");
    CHECK(kds->requests() == 6);

    int turn = 0;
    Outcome o = measure([&] { return attest_chip(b, ++turn % 2 ? first : second); }, attack, "c) random CHIP_IDs");
    check_outcome(o);
    MESSAGE("random-CHIP_ID reports: " << attack.sent() << "; KDS requests: " << kds->requests() << " (quota " << QUOTA
                                       << "), answered 429: " << kds->rate_limited());
    CHECK(kds->requests() == 6);  // the later floods met the budget and the negative cache only
    CHECK(kds->rate_limited() == 0);
}
