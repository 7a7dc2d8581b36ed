// Load benchmark of the broker (numbers, never a wall-clock verdict). Concurrent agents on
// loopback run whole cvmkb/1 exchanges (challenge, simulated report, attest, verify the
// signature, open) against one broker, then against three Broker objects sharing one store, each
// behind its own HttpServer: an agent's challenge goes to one replica, its attest to the next,
// and a replay of every 50th attest to the third. Beside each, the crypto bound measured in the
// same run: one simulated report signature plus one verification (as the broker does it, chain
// cached), timed on one core, times the cores this machine has. The ratio says how much of the
// machine the protocol, HTTP and JSON leave to the cryptography the bound counts.
//
// Fails only on a correctness breach: a nonce accepted twice, a replay accepted, or an attest
// lost (not released) — the brokers' own counters must agree with the clients'.
// Usage: bench_broker [ATTESTS per configuration] [CLIENTS]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "base/base64.h"
#include "base/file.h"
#include "broker.h"
#include "client/session.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "sim/chain.h"
#include "sim/crl.h"
#include "sim/psp.h"
#include "snp/cert_table.h"
#include "store.h"
#include "verify/verifier.h"

using namespace cvm;
using Clock = std::chrono::steady_clock;

namespace {

template <typename T>
T must(Result<T> r, const char* what)
{
    if (!r.ok()) {
        fprintf(stderr, "bench_broker: %s: %s\n", what, std::string(r.error().message()).c_str());
        exit(2);
    }
    return r.release_value();
}

void write(const std::string& path, ByteView data)
{
    if (auto r = write_file_atomic(path, data, 0600); !r.ok()) {
        fprintf(stderr, "bench_broker: %s\n", std::string(r.error().message()).c_str());
        exit(2);
    }
}

ByteView text_bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct Bench {
    std::string dir;
    sim::Platform platform;
    sim::LaunchState launch;
    proto::Ed25519PublicKey broker_key{};
    Bytes crl;  // the platform's CRL: revocation is on, as in a broker's default configuration
    std::string config_text;
};

struct Replica {
    std::unique_ptr<broker::Broker> broker;
    std::unique_ptr<net::HttpServer> server;
    std::string url;
};

struct Run {
    int attests{0};
    double seconds{0};
    std::vector<double> latencies;  // ms, whole exchanges
    int released{0}, failed{0}, replays{0}, replays_accepted{0};
    size_t distinct_nonces{0};
    bool brokers_agree{false};
};

std::vector<Replica> start_replicas(const Bench& b, int count, broker::Store* store)
{
    std::vector<Replica> out;
    for (int i = 0; i < count; ++i) {
        broker::BrokerConfig config = must(broker::parse_broker_config(b.config_text, b.dir), "config");
        net::ServerOptions options = config.server;
        broker::BrokerOptions broker_options;
        broker_options.store = store;
        broker_options.log = [](const std::string&) {};
        Replica r;
        r.broker = must(broker::Broker::create(std::move(config), broker_options), "broker");
        broker::Broker* raw = r.broker.get();
        r.server = must(net::HttpServer::start(options, [raw](const net::HttpRequest& q) { return raw->handle(q); }),
                        "server");
        r.url = "http://127.0.0.1:" + std::to_string(r.server->port());
        out.push_back(std::move(r));
    }
    return out;
}

// The attests the broker counted as released, from its Prometheus text.
long released_count(const broker::Broker& b)
{
    std::string metrics = b.metrics_text();
    std::string prefix = "cvmkb_attests_total{outcome=\"released\",code=\"OK\",simulated=\"true\"} ";
    size_t at = metrics.find(prefix);
    return at == std::string::npos ? 0 : atol(metrics.c_str() + at + prefix.size());
}

Run run(const Bench& b, int replica_count, broker::Store* store, int attests, int clients)
{
    std::vector<Replica> replicas = start_replicas(b, replica_count, store);
    auto pick = [&](int i) -> const Replica& { return replicas[static_cast<size_t>(i % replica_count)]; };
    Run out;
    out.attests = attests;
    std::atomic<int> next{0}, released{0}, failed{0}, replays{0}, replays_accepted{0};
    std::mutex mutex;
    std::set<proto::Nonce> nonces;
    auto started = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
        threads.emplace_back([&] {
            auto psp = must(sim::SimulatedPsp::create(b.platform, b.launch), "psp");
            std::vector<Bytes> certs;
            for (const snp::CertEntry& e : must(snp::parse_cert_table(psp.cert_table()), "cert table"))
                certs.push_back(e.der);
            std::vector<double> mine;
            std::vector<proto::Nonce> my_nonces;
            for (int index = next.fetch_add(1); index < attests; index = next.fetch_add(1)) {
                auto t0 = Clock::now();
                client::ClientOptions o;
                o.broker_url = pick(index).url;
                o.broker_key = b.broker_key;
                o.resources = {"s"};
                Result<proto::Release> r = Error::make(Errc::Network, "no session");
                auto session = client::Session::begin(o);
                std::string body;
                if (session) {
                    Bytes report = must(psp.get_report(session->report_data(), 0), "report");
                    body = proto::serialize_attest_request(session->request(std::move(report), certs));
                    auto answer = net::http_post(pick(index + 1).url + std::string(proto::ATTEST_PATH),
                                                 text_bytes(body), {{"Content-Type", "application/json"}});
                    r = answer ? session->accept(answer.value()) : Result<proto::Release>(answer.release_error());
                } else {
                    r = session.release_error();
                }
                mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
                if (!body.empty() && index % 50 == 0) {  // the same attest at another replica: refused
                    replays++;
                    auto again = net::http_post(pick(index + 2).url + std::string(proto::ATTEST_PATH), text_bytes(body),
                                                {{"Content-Type", "application/json"}});
                    if (!again || again->status == 200)
                        replays_accepted++;
                }
                if (r.ok() && r->secrets.size() == 1) {
                    released++;
                    my_nonces.push_back(session->nonce());
                } else if (failed++ < 5) {
                    fprintf(stderr, "bench_broker: attest failed: %s\n",
                            r.ok() ? "wrong release" : std::string(r.error().message()).c_str());
                }
            }
            std::lock_guard lock(mutex);
            out.latencies.insert(out.latencies.end(), mine.begin(), mine.end());
            nonces.insert(my_nonces.begin(), my_nonces.end());
        });
    }
    for (std::thread& t : threads)
        t.join();
    out.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    long counted = 0;
    for (Replica& r : replicas) {
        r.server->stop();
        counted += released_count(*r.broker);
    }
    std::sort(out.latencies.begin(), out.latencies.end());
    out.released = released;
    out.failed = failed;
    out.replays = replays;
    out.replays_accepted = replays_accepted;
    out.distinct_nonces = nonces.size();
    out.brokers_agree = counted == released;
    return out;
}

// Seconds of one core for one simulated report signature plus its verification, chain cached.
double crypto_cost(const Bench& b)
{
    auto psp = must(sim::SimulatedPsp::create(b.platform, b.launch), "psp");
    std::vector<Bytes> certs;
    for (const snp::CertEntry& e : must(snp::parse_cert_table(psp.cert_table()), "cert table"))
        certs.push_back(e.der);
    verify::VerifierOptions options;
    options.trusted_roots.push_back(must(verify::Certificate::parse(b.platform.ark_der), "simulated ARK"));
    auto verifier = must(verify::Verifier::create(std::move(options)), "verifier");
    std::array<uint8_t, 64> report_data{};
    auto one = [&] {
        report_data[0]++;
        Bytes report = must(psp.get_report(report_data, 0), "report");
        verify::Evidence evidence = must(verify::evidence_from_cert_list(report, certs), "evidence");
        evidence.crl = b.crl;
        if (!all_pass(verifier->verify(evidence).claims)) {
            fprintf(stderr, "bench_broker: a simulated report failed verification\n");
            exit(2);
        }
    };
    one();  // the chain into the cache, as in a running broker
    int n = 0;
    auto started = Clock::now();
    double seconds = 0;
    while (n < 20 || seconds < 0.5) {
        one();
        ++n;
        seconds = std::chrono::duration<double>(Clock::now() - started).count();
    }
    return seconds / n;
}

double pct(const std::vector<double>& sorted, double p)
{
    return sorted.empty() ? 0 : sorted[static_cast<size_t>(p * static_cast<double>(sorted.size() - 1))];
}

bool report(const char* name, const Run& r, int clients, double bound)
{
    double rate = r.attests / r.seconds;
    printf("%-10s %6d attests by %d clients in %5.2f s: %6.0f attests/s  p50 %6.2f ms  p99 %6.2f ms  "
           "%3.0f%% of the crypto bound\n",
           name, r.attests, clients, r.seconds, rate, pct(r.latencies, 0.50), pct(r.latencies, 0.99),
           100 * rate / bound);
    printf("           released %d; failed %d; distinct nonces %zu; brokers counted %s; replays %d, accepted %d\n",
           r.released, r.failed, r.distinct_nonces, r.brokers_agree ? "the same" : "DIFFERENTLY", r.replays,
           r.replays_accepted);
    return r.released == r.attests && r.failed == 0 && r.distinct_nonces == static_cast<size_t>(r.attests) &&
           r.brokers_agree && r.replays_accepted == 0;
}

}  // namespace

int main(int argc, char** argv)
{
    const int attests = argc > 1 ? atoi(argv[1]) : 1000;
    const int clients = argc > 2 ? atoi(argv[2]) : 64;

    Bench b;
    b.dir = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/cvm_bench_broker_XXXXXX";
    if (!mkdtemp(b.dir.data()))
        return 2;
    b.platform = must(sim::create_platform({}), "simulated platform");
    b.launch.measurement.fill(0xaa);

    proto::Ed25519KeyPair key = proto::Ed25519KeyPair::generate();
    b.broker_key = key.public_key();
    write(b.dir + "/broker.key", proto::ed25519_private_pem(key).expose());
    write(b.dir + "/ark.der", b.platform.ark_der);
    b.crl = must(sim::make_crl(b.platform, {}), "simulated CRL");
    write(b.dir + "/crl.der", b.crl);
    write(b.dir + "/nonce.key", text_bytes(base64_encode(Bytes(32, 0x5a)) + "\n"));
    write(b.dir + "/s", text_bytes("bench-secret"));
    std::string m(96, 'a');
    b.config_text = "listen = \"127.0.0.1:0\"\nsigning_key = \"broker.key\"\nnonce_key = \"nonce.key\"\n"
                    "max_connections = 256\nsimulated_root = \"ark.der\"\nsimulated_crl = \"crl.der\"\n"
                    "nonce_lifetime = 600\n[policy]\n"
                    "allow_simulated = true\nmeasurements = [\"" +
                    m + "\"]\n[[secret]]\nname = \"s\"\nfile = \"s\"\nmeasurements = [\"" + m + "\"]\n";

    // The bound is measured before and after the load and averaged, so that other work on the
    // machine weighs on both sides of the ratio alike.
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double before = crypto_cost(b);
    Run one = run(b, 1, nullptr, attests, clients);
    broker::MemoryStore shared;
    Run three = run(b, 3, &shared, attests, clients);
    double after = crypto_cost(b);
    double cost = (before + after) / 2;
    double bound = static_cast<double>(cores) / cost;
    printf("broker load on loopback; each attest: challenge + simulated report + attest + verify + open\n");
    printf("crypto bound: %.3f ms per report signature + verification on one core (%.3f before the load, %.3f "
           "after); x %ld cores = %.0f attests/s\n",
           cost * 1000, before * 1000, after * 1000, cores, bound);
    bool ok = report("1 replica", one, clients, bound);
    ok = report("3 replicas", three, clients, bound) && ok;
    std::filesystem::remove_all(b.dir);
    if (!ok)
        fprintf(stderr, "bench_broker: FAILED: an attest was lost, or a nonce or replay was accepted twice\n");
    return ok ? 0 : 1;
}
