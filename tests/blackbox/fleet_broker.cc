// The broker as a fleet (issue 13, Acceptance 1): a real redis-server and three `cvm broker`
// processes on loopback sharing it and a nonce_key; CLIENTS concurrent clients make ATTESTS
// attests with simulated reports, spread over the replicas, and replay every released one to a
// *different* replica, which must refuse it NONCE_REUSED. While it runs:
//   at 25%  Redis is stopped for 1.5 s (SIGTERM; it saves its RDB and loads it again on start):
//           attests are refused STORE_UNAVAILABLE with 503 and Retry-After, nothing is released
//           unrecorded (every replay, also those attempted during the outage, is refused after
//           recovery), and the replicas recover on their own when it returns;
//   at 50%  one replica is killed (SIGKILL): clients continue on the other two;
//   at 70%  it is started again: nonces used before the restart are refused NONCE_REUSED by it,
//           and nonces it issued before it died but never used are accepted once at most.
// Passes when every attest was released (0 lost, retried on retryable refusals and transport
// errors), 0 nonces were accepted twice, and each check above held. Prints the numbers.
// Bounded: an overall deadline (CVM_FLEET_DEADLINE seconds, default 420) counts what is left as lost.
//
// Usage: fleet_broker CVM [ATTESTS (20000)] [CLIENTS (64)]
// Exit 77 without redis-server outside CI (1 under CI=true: scripts/setup installs it).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/base64.h"
#include "base/file.h"
#include "client/session.h"
#include "proto/keys.h"
#include "proto/messages.h"
#include "redis_server.h"
#include "sim/chain.h"
#include "sim/crl.h"
#include "sim/psp.h"
#include "snp/cert_table.h"

using namespace cvm;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int REPLICAS = 3;
const std::string MEASUREMENT(96, 'a');

void write(const std::string& path, std::string_view text)
{
    auto ok = write_file_atomic(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, 0600);
    if (!ok) {
        fprintf(stderr, "fleet: cannot write %s: %s\n", path.c_str(), std::string(ok.error().message()).c_str());
        exit(1);
    }
}

std::string read(const std::string& path)
{
    auto text = read_text_file(path, 1 << 26);
    return text ? text.value() : std::string();
}

// The refusal code in an error response's body, or "".
std::string code_of(const net::HttpResponse& r)
{
    static const std::regex code("\"code\"\\s*:\\s*\"([A-Z_]+)\"");
    std::smatch m;
    std::string body(r.body_text());
    return std::regex_search(body, m, code) ? m[1].str() : std::string();
}

class Replica {
public:
    Replica(std::string cvm, std::string config, std::string dir, int index)
            : m_cvm(std::move(cvm)), m_config(std::move(config)), m_dir(std::move(dir)), m_index(index)
    {
    }

    // Starts `cvm broker` and waits for its "listening on" line (its port is chosen by the kernel).
    bool start()
    {
        m_log = m_dir + "/broker-" + std::to_string(m_index) + "-" + std::to_string(++m_starts) + ".log";
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 2, m_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        char* argv[] = {m_cvm.data(), const_cast<char*>("broker"), const_cast<char*>("--config"), m_config.data(),
                        nullptr};
        pid_t pid = 0;
        int rc = posix_spawn(&pid, m_cvm.c_str(), &actions, nullptr, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0)
            return false;
        static const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
        for (auto until = Clock::now() + std::chrono::seconds(30); Clock::now() < until;) {
            std::smatch m;
            std::string text = read(m_log);
            if (std::regex_search(text, m, listening)) {
                std::lock_guard lock(m_mutex);
                m_pid = pid;
                m_url = "http://127.0.0.1:" + m[1].str();
                return true;
            }
            if (waitpid(pid, nullptr, WNOHANG) == pid)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return false;
    }

    void kill(int signal)
    {
        pid_t pid;
        {
            std::lock_guard lock(m_mutex);
            pid = m_pid;
            m_pid = -1;
            m_url.clear();
        }
        if (pid > 0) {
            ::kill(pid, signal);
            waitpid(pid, nullptr, 0);
        }
    }

    std::string url() const  // "" while down
    {
        std::lock_guard lock(m_mutex);
        return m_url;
    }
    const std::string& log() const { return m_log; }

private:
    std::string m_cvm, m_config, m_dir, m_log;
    int m_index, m_starts{0};
    mutable std::mutex m_mutex;
    pid_t m_pid{-1};
    std::string m_url;
};

struct Tally {
    std::mutex mutex;
    std::atomic<int> done{0};  // attests finished (released or given up)
    int released = 0, lost = 0, replays = 0, replays_refused = 0, replays_accepted = 0, replays_deferred = 0;
    int store_unavailable = 0, without_retry_after = 0, transport_errors = 0, unexpected = 0;
    std::set<proto::Nonce> nonces;
    std::atomic<bool> outage{false};    // set around the Redis outage (and 1 s after it)
    std::vector<std::string> deferred;  // released bodies to replay again after recovery: all refused
    std::vector<std::string> refused;   // bodies refused STORE_UNAVAILABLE: released once at most
    std::vector<std::string> sample;    // released bodies replayed again at the broker restart
    std::string first_problem;

    void problem(int& counter, const std::string& what)
    {
        std::lock_guard lock(mutex);
        ++counter;
        if (first_problem.empty())
            first_problem = what;
    }
};

struct Fleet {
    std::vector<std::unique_ptr<Replica>> replicas;
    proto::Ed25519PublicKey broker_key{};
    net::HttpOptions http;

    // A live replica's URL, starting the search at `hint`, skipping `not_url`; "" if none.
    std::string pick(size_t hint, const std::string& not_url = "") const
    {
        for (size_t i = 0; i < replicas.size(); ++i) {
            std::string url = replicas[(hint + i) % replicas.size()]->url();
            if (!url.empty() && url != not_url)
                return url;
        }
        return {};
    }

    Result<net::HttpResponse> post_attest(const std::string& url, const std::string& body) const
    {
        net::Headers headers{{"Content-Type", std::string(proto::JSON_TYPE)}};
        return net::http_post(url + std::string(proto::ATTEST_PATH),
                              {reinterpret_cast<const uint8_t*>(body.data()), body.size()}, headers, http);
    }
};

// Replays `body` to a live replica other than `issuer`; the outcome is counted in `tally`.
void replay(const Fleet& fleet, Tally& tally, const std::string& issuer, size_t hint, const std::string& body)
{
    std::string other = fleet.pick(hint, issuer);
    auto r = other.empty() ? Result<net::HttpResponse>(Error::make(Errc::Unavailable, "no other replica"))
                           : fleet.post_attest(other, body);
    std::lock_guard lock(tally.mutex);
    ++tally.replays;
    if (r.ok() && r->status == 200) {
        ++tally.replays_accepted;
        if (tally.first_problem.empty())
            tally.first_problem = "a replay was released by " + other;
    } else if (r.ok() && code_of(r.value()) == "NONCE_REUSED") {
        ++tally.replays_refused;
    } else {  // the store or the replica was down: replayed again once it is back
        ++tally.replays_deferred;
        tally.deferred.push_back(body);
    }
}

void client_loop(const Fleet& fleet, const sim::Platform& platform, int attests, Clock::time_point deadline,
                 std::atomic<int>& next, Tally& tally)
{
    sim::LaunchState launch;
    launch.measurement.fill(0xaa);
    auto psp = sim::SimulatedPsp::create(platform, launch).release_value();
    std::vector<Bytes> certs;
    for (const snp::CertEntry& e : snp::parse_cert_table(psp.cert_table()).release_value())
        certs.push_back(e.der);
    client::ClientOptions options;
    options.broker_key = fleet.broker_key;
    options.resources = {"s"};
    options.http = fleet.http;
    for (int index = next.fetch_add(1); index < attests; index = next.fetch_add(1)) {
        for (size_t attempt = 0;; ++attempt) {
            if (Clock::now() > deadline) {
                tally.problem(tally.lost, "attest " + std::to_string(index) + " not released by the deadline");
                break;
            }
            options.broker_url = fleet.pick(static_cast<size_t>(index) + attempt);
            auto session = options.broker_url.empty() ? Result<client::Session>(Error::make(Errc::Unavailable, "down"))
                                                      : client::Session::begin(options);
            if (!session.ok()) {
                std::lock_guard lock(tally.mutex);
                ++tally.transport_errors;
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                continue;
            }
            Bytes report = psp.get_report(session->report_data(), 0).release_value();
            std::string body = proto::serialize_attest_request(session->request(std::move(report), certs));
            auto response = fleet.post_attest(options.broker_url, body);
            if (!response.ok()) {  // the replica died under us
                std::lock_guard lock(tally.mutex);
                ++tally.transport_errors;
                continue;
            }
            if (response->status == 503 && code_of(response.value()) == "STORE_UNAVAILABLE") {
                std::lock_guard lock(tally.mutex);
                ++tally.store_unavailable;
                if (!response->headers.get("Retry-After"))
                    ++tally.without_retry_after;
                // Its nonce was not recorded, so it may be released later, but only once.
                tally.refused.push_back(body);
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            auto released = session->accept(response.value());
            if (!released.ok() || released->secrets.size() != 1) {
                tally.problem(tally.unexpected, "attest refused: " + std::to_string(response->status) + " " +
                                                    std::string(response->body_text().substr(0, 200)));
                continue;
            }
            {
                std::lock_guard lock(tally.mutex);
                ++tally.released;
                if (!tally.nonces.insert(session->nonce()).second && tally.first_problem.empty())
                    tally.first_problem = "a nonce was released twice";
                if (index % 64 == 0)
                    tally.sample.push_back(body);
                if (tally.outage.load())  // released around the outage: recorded, or a replay shows it
                    tally.deferred.push_back(body);
            }
            replay(fleet, tally, options.broker_url, static_cast<size_t>(index) + attempt + 1, body);
            break;
        }
        tally.done++;
    }
}

void wait_progress(const Tally& tally, int target, Clock::time_point deadline)
{
    while (tally.done.load() < target && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: fleet_broker CVM [ATTESTS] [CLIENTS]\n");
        return 2;
    }
    if (auto status = test::redis_server_missing("fleet_broker"))
        return *status;
    const int attests = argc > 2 ? atoi(argv[2]) : 20000;
    const int clients = argc > 3 ? atoi(argv[3]) : 64;
    const char* limit = getenv("CVM_FLEET_DEADLINE");
    auto started = Clock::now();
    auto deadline = started + std::chrono::seconds(limit ? atoi(limit) : 420);

    std::string tmpl = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/cvm_fleet_XXXXXX";
    std::string dir = mkdtemp(tmpl.data());
    test::RedisServerOptions redis_options;
    redis_options.persistent = true;
    test::RedisServer redis(redis_options);

    sim::Platform platform = sim::create_platform({}).release_value();
    write(dir + "/ark.der", {reinterpret_cast<const char*>(platform.ark_der.data()), platform.ark_der.size()});
    Bytes crl = sim::make_crl(platform, {}).release_value();  // revocation stays on
    write(dir + "/crl.der", {reinterpret_cast<const char*>(crl.data()), crl.size()});
    proto::Ed25519KeyPair key = proto::Ed25519KeyPair::generate();
    SecretBytes pem = proto::ed25519_private_pem(key);
    write(dir + "/broker.key", {reinterpret_cast<const char*>(pem.expose().data()), pem.size()});
    Secret<32> nonce_key;
    if (getrandom(nonce_key.expose().data(), 32, 0) != 32)
        return 1;
    write(dir + "/nonce.key", base64_encode(nonce_key.expose()) + "\n");
    write(dir + "/s.secret", "fleet-secret");
    write(dir + "/broker.toml", "listen = \"127.0.0.1:0\"\nsigning_key = \"broker.key\"\nnonce_key = \"nonce.key\"\n"
                                "nonce_lifetime = 600\nmax_connections = 256\nsimulated_root = \"ark.der\"\n"
                                "simulated_crl = \"crl.der\"\n"
                                "[store]\nurl = \"" +
                                    redis.url() +
                                    "\"\ntimeout_ms = 300\npool_size = 16\n"
                                    "[policy]\nallow_simulated = true\nmeasurements = [\"" +
                                    MEASUREMENT + "\"]\n[[secret]]\nname = \"s\"\nfile = \"s.secret\"\n" +
                                    "measurements = [\"" + MEASUREMENT + "\"]\n");

    Fleet fleet;
    fleet.broker_key = key.public_key();
    fleet.http.connect_timeout_ms = 3000;
    fleet.http.io_timeout_ms = 20000;
    fleet.http.total_timeout_ms = 30000;
    for (int i = 0; i < REPLICAS; ++i)
        fleet.replicas.push_back(std::make_unique<Replica>(argv[1], dir + "/broker.toml", dir, i));
    auto finish = [&](const std::string& why) {
        for (auto& r : fleet.replicas)
            r->kill(SIGTERM);
        if (!why.empty()) {
            fprintf(stderr, "FAILED: %s\n", why.c_str());
            for (auto& r : fleet.replicas) {
                std::string text = read(r->log());
                fprintf(stderr, "--- %s (last 2000 bytes) ---\n%s\n", r->log().c_str(),
                        text.substr(text.size() > 2000 ? text.size() - 2000 : 0).c_str());
            }
        }
        std::filesystem::remove_all(dir);
        return why.empty() ? 0 : 1;
    };
    for (auto& r : fleet.replicas) {
        if (!r->start())
            return finish("a replica did not start: " + r->log());
    }

    Tally tally;
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t)
        threads.emplace_back([&] { client_loop(fleet, platform, attests, deadline, next, tally); });

    // Redis stopped at 25%.
    wait_progress(tally, attests / 4, deadline);
    int unavailable_before = tally.store_unavailable;
    tally.outage = true;
    redis.stop();
    auto outage = Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    redis.start();
    double outage_s = std::chrono::duration<double>(Clock::now() - outage).count();

    // Recovered: attests are released again within 10 s of Redis returning.
    int released_at_return = tally.released;
    auto recovery_deadline = Clock::now() + std::chrono::seconds(10);
    while (tally.released == released_at_return && Clock::now() < recovery_deadline && tally.done < attests)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    bool recovered = tally.released > released_at_return || tally.done >= attests;
    std::this_thread::sleep_until(std::max(Clock::now(), outage + std::chrono::milliseconds(2500)));
    tally.outage = false;

    // Held for the restart check: challenges replica 2 issues before it dies, never used.
    Replica& victim = *fleet.replicas[2];
    std::vector<client::Session> unused;
    client::ClientOptions victim_options;
    victim_options.broker_url = victim.url();
    victim_options.broker_key = fleet.broker_key;
    victim_options.resources = {"s"};
    for (int i = 0; i < 8; ++i) {
        if (auto s = client::Session::begin(victim_options); s.ok())
            unused.push_back(s.release_value());
    }

    // One replica killed at 50%, started again at 70%.
    wait_progress(tally, attests / 2, deadline);
    victim.kill(SIGKILL);
    int transport_at_kill = tally.transport_errors, released_at_kill = tally.released;
    wait_progress(tally, attests * 7 / 10, deadline);
    int released_while_down = tally.released - released_at_kill;
    if (!victim.start())
        return finish("the killed replica did not start again");

    // Nonces used before the restart: refused by the restarted replica.
    std::vector<std::string> sample;
    {
        std::lock_guard lock(tally.mutex);
        sample = tally.sample;
    }
    int restart_refused = 0, restart_other = 0;
    for (const std::string& body : sample) {
        auto r = fleet.post_attest(victim.url(), body);
        (r.ok() && code_of(r.value()) == "NONCE_REUSED" ? restart_refused : restart_other)++;
    }
    // Nonces it issued before dying, never used: at most one release each.
    sim::LaunchState launch;
    launch.measurement.fill(0xaa);
    auto psp = sim::SimulatedPsp::create(platform, launch).release_value();
    std::vector<Bytes> certs;
    for (const snp::CertEntry& e : snp::parse_cert_table(psp.cert_table()).release_value())
        certs.push_back(e.der);
    int unused_released = 0, unused_refused = 0, unused_twice = 0;
    for (client::Session& s : unused) {
        std::string body =
            proto::serialize_attest_request(s.request(psp.get_report(s.report_data(), 0).release_value(), certs));
        auto first = fleet.post_attest(victim.url(), body);
        (first.ok() && first->status == 200 ? unused_released : unused_refused)++;
        auto second = fleet.post_attest(fleet.pick(0, victim.url()), body);
        if (second.ok() && second->status == 200)
            ++unused_twice;
    }

    for (std::thread& t : threads)
        t.join();
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();

    // Released around the outage, or replayed while the store was down: refused now.
    int late_refused = 0, late_other = 0;
    std::string late_first;
    for (size_t i = 0; i < tally.deferred.size(); ++i) {
        auto r = fleet.post_attest(fleet.pick(i), tally.deferred[i]);
        if (r.ok() && code_of(r.value()) == "NONCE_REUSED")
            ++late_refused;
        else if (late_other++ == 0)
            late_first =
                r.ok() ? std::to_string(r->status) + " " + code_of(r.value()) : std::string(r.error().message());
    }
    // Refused STORE_UNAVAILABLE: never recorded, so the first submission now may be released, the
    // second (to another replica) never.
    int refused_released = 0, refused_twice = 0;
    for (size_t i = 0; i < tally.refused.size(); ++i) {
        std::string first_url = fleet.pick(i);
        auto first = fleet.post_attest(first_url, tally.refused[i]);
        refused_released += first.ok() && first->status == 200;
        auto second = fleet.post_attest(fleet.pick(i + 1, first_url), tally.refused[i]);
        refused_twice += second.ok() && second->status == 200;
    }

    printf("fleet: %d attests by %d clients over %d replicas sharing %s, in %.1f s (%.0f attests/s)\n", attests,
           clients, REPLICAS, redis.url().c_str(), seconds, attests / seconds);
    printf("  released        %d of %d, distinct nonces %zu, lost %d, unexpected refusals %d\n", tally.released,
           attests, tally.nonces.size(), tally.lost, tally.unexpected);
    printf("  replays         %d to another replica: %d refused NONCE_REUSED, %d accepted, %d deferred\n",
           tally.replays, tally.replays_refused, tally.replays_accepted, tally.replays_deferred);
    printf("  redis outage    %.1f s: %d STORE_UNAVAILABLE (503) refusals, %d without Retry-After; %s\n", outage_s,
           tally.store_unavailable - unavailable_before, tally.without_retry_after,
           recovered ? "released again after it returned" : "NOT RECOVERED");
    printf("  after recovery  %zu refused or deferred requests replayed: %d refused, %d not%s%s\n",
           tally.deferred.size(), late_refused, late_other,
           late_first.empty() ? "" : " (first: ", late_first.empty() ? "" : (late_first + ")").c_str());
    printf("  refused, later  %zu refused STORE_UNAVAILABLE submitted twice: %d released once, %d twice\n",
           tally.refused.size(), refused_released, refused_twice);
    printf("  replica killed  %d transport errors retried elsewhere; %d released while it was down\n",
           tally.transport_errors - transport_at_kill, released_while_down);
    printf("  replica restart %zu used nonces: %d refused NONCE_REUSED, %d not; %zu unused: %d released, %d refused, "
           "%d released twice\n",
           sample.size(), restart_refused, restart_other, unused.size(), unused_released, unused_refused, unused_twice);

    std::string why;
    if (tally.released != attests || tally.lost != 0)
        why = "lost attests: " + tally.first_problem;
    else if (tally.nonces.size() != static_cast<size_t>(tally.released) || tally.replays_accepted != 0)
        why = "a nonce was accepted twice";
    else if (tally.unexpected != 0)
        why = "unexpected refusals: " + tally.first_problem;
    else if (tally.store_unavailable - unavailable_before == 0 || tally.without_retry_after != 0 || !recovered)
        why = "the Redis outage was not answered STORE_UNAVAILABLE with Retry-After, or not recovered from";
    else if (late_other != 0)
        why = "an attest released around the outage was not refused as a replay after recovery: " + late_first;
    else if (refused_twice != 0)
        why = "an attest refused during the outage was released twice after recovery";
    else if (sample.empty() || restart_other != 0)
        why = "the restarted replica did not refuse nonces used before its restart";
    else if (unused_twice != 0 || unused.empty())
        why = "a nonce issued before the restart was released twice";
    return finish(why);
}
