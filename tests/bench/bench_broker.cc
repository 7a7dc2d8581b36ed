// Load benchmark of the broker (numbers, never a wall-clock verdict): 64 concurrent agents on
// loopback run whole cvmkb/1 exchanges (challenge, simulated report, attest, verify signature,
// open) against one in-process broker, at least 20,000 attests. Prints throughput and latency
// percentiles, and fails only on a correctness breach: a nonce accepted twice, or an attest lost
// (not released) — the broker's own counters must agree with the clients'.
// Usage: bench_broker [ATTESTS] [CLIENTS]
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

#include "base/file.h"
#include "broker.h"
#include "client/session.h"
#include "net/http_server.h"
#include "sim/chain.h"
#include "sim/psp.h"
#include "snp/cert_table.h"

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

}  // namespace

int main(int argc, char** argv)
{
    const int attests = argc > 1 ? atoi(argv[1]) : 20000;
    const int clients = argc > 2 ? atoi(argv[2]) : 64;

    std::string dir = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/cvm_bench_broker_XXXXXX";
    if (!mkdtemp(dir.data()))
        return 2;
    sim::Platform platform = must(sim::create_platform({}), "simulated platform");
    sim::LaunchState launch;
    launch.measurement.fill(0xaa);

    proto::Ed25519KeyPair key = proto::Ed25519KeyPair::generate();
    proto::Ed25519PublicKey broker_key = key.public_key();
    write(dir + "/broker.key", proto::ed25519_private_pem(key).expose());
    write(dir + "/ark.der", platform.ark_der);
    std::string secret = "bench-secret";
    write(dir + "/s", {reinterpret_cast<const uint8_t*>(secret.data()), secret.size()});
    std::string m(96, 'a');
    std::string config_text = "listen = \"127.0.0.1:0\"\nsigning_key = \"broker.key\"\nmax_connections = 256\n"
                              "simulated_root = \"ark.der\"\nnonce_lifetime = 600\n[policy]\nallow_simulated = true\n"
                              "measurements = [\"" +
                              m + "\"]\n[[secret]]\nname = \"s\"\nfile = \"s\"\nmeasurements = [\"" + m + "\"]\n";
    broker::BrokerConfig config = must(broker::parse_broker_config(config_text, dir), "config");
    net::ServerOptions options = config.server;
    broker::BrokerOptions broker_options;
    broker_options.log = [](const std::string&) {};
    auto b = must(broker::Broker::create(std::move(config), broker_options), "broker");
    broker::Broker* raw = b.get();
    auto server =
        must(net::HttpServer::start(options, [raw](const net::HttpRequest& r) { return raw->handle(r); }), "server");

    client::ClientOptions client_options;
    client_options.broker_url = "http://127.0.0.1:" + std::to_string(server->port());
    client_options.broker_key = broker_key;
    client_options.resources = {"s"};

    std::atomic<int> next{0}, released{0}, failed{0}, replays{0}, replays_accepted{0};
    std::mutex mutex;
    std::set<proto::Nonce> nonces;
    std::vector<double> latencies;
    latencies.reserve(static_cast<size_t>(attests));
    auto started = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
        threads.emplace_back([&] {
            auto psp = must(sim::SimulatedPsp::create(platform, launch), "psp");
            std::vector<Bytes> certs;
            for (const snp::CertEntry& e : must(snp::parse_cert_table(psp.cert_table()), "cert table"))
                certs.push_back(e.der);
            std::vector<double> mine;
            std::vector<proto::Nonce> my_nonces;
            for (int index = next.fetch_add(1); index < attests; index = next.fetch_add(1)) {
                auto t0 = Clock::now();
                auto session = client::Session::begin(client_options);
                Bytes report = session.ok() ? must(psp.get_report(session->report_data(), 0), "report") : Bytes{};
                Result<proto::Release> r =
                    session.ok() ? session->complete(report, certs) : Result<proto::Release>(session.error());
                mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
                if (session.ok() && index % 50 == 0) {  // replay the exchange just made: must be refused
                    replays++;
                    if (session->complete(report, certs).ok())
                        replays_accepted++;
                }
                if (r.ok() && r->secrets.size() == 1) {
                    released++;
                    my_nonces.push_back(session->nonce());
                } else {
                    if (failed++ < 5)
                        fprintf(stderr, "bench_broker: attest failed: %s\n",
                                r.ok() ? "wrong release" : std::string(r.error().message()).c_str());
                }
            }
            std::lock_guard lock(mutex);
            latencies.insert(latencies.end(), mine.begin(), mine.end());
            nonces.insert(my_nonces.begin(), my_nonces.end());
        });
    }
    for (std::thread& t : threads)
        t.join();
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    server->stop();

    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) { return latencies[static_cast<size_t>(p * static_cast<double>(latencies.size() - 1))]; };
    std::string metrics = raw->metrics_text();
    std::string released_line = "cvmkb_attests_total{outcome=\"released\",code=\"OK\",simulated=\"true\"} " +
                                std::to_string(released.load()) + "\n";
    bool server_agrees = metrics.find(released_line) != std::string::npos;
    printf("broker load: %d attests by %d concurrent clients on loopback in %.2f s\n", attests, clients, seconds);
    printf("  throughput      %.0f attests/s (each: challenge + simulated report + attest + open)\n",
           attests / seconds);
    printf("  latency         p50 %.2f ms   p99 %.2f ms   max %.2f ms\n", pct(0.50), pct(0.99), latencies.back());
    printf("  released        %d of %d; failed %d; distinct nonces %zu; broker counted %s\n", released.load(), attests,
           failed.load(), nonces.size(), server_agrees ? "the same" : "DIFFERENTLY");
    printf("  replays         %d attempted, %d accepted\n", replays.load(), replays_accepted.load());
    std::filesystem::remove_all(dir);
    bool ok = released == attests && failed == 0 && nonces.size() == static_cast<size_t>(attests) && server_agrees &&
              replays_accepted == 0;
    if (!ok)
        fprintf(stderr, "bench_broker: FAILED: a request was lost or a nonce was accepted twice\n");
    return ok ? 0 : 1;
}
