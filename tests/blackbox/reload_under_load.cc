// Reload under load, against a real `cvm broker` process: clients attest continuously for two
// secrets while the driver rotates both files and sends SIGHUP, ten times. Every answer must
// carry the two secrets of one generation (never one old and one new), no client may ever see an
// older generation after a newer one, and no attest may fail: a reload must not cost a request.
// Bounded: 10 reloads, at most 60 s in all. Loopback only; the broker's stderr is in the
// temporary directory (printed on failure).
//
// Usage: reload_under_load CVM
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "client/session.h"
#include "proto/keys.h"
#include "sim/chain.h"
#include "sim/crl.h"
#include "sim/psp.h"
#include "snp/cert_table.h"

extern char** environ;

using namespace cvm;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int RELOADS = 10;
constexpr int CLIENTS = 4;
constexpr auto DEADLINE = std::chrono::seconds(60);
const std::string MEASUREMENT(96, 'a');

void write(const std::string& path, std::string_view text)
{
    auto ok = write_file_atomic(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, 0600);
    if (!ok) {
        fprintf(stderr, "cannot write %s: %s\n", path.c_str(), std::string(ok.error().message()).c_str());
        exit(1);
    }
}

std::string read(const std::string& path)
{
    auto text = read_text_file(path, 1 << 24);
    return text ? text.value() : std::string();
}

// Waits for `pattern` in the broker's log; the first capture group, or "" at the deadline.
std::string wait_for(const std::string& log, const std::regex& pattern, Clock::time_point until)
{
    for (; Clock::now() < until; std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
        std::smatch m;
        std::string text = read(log);
        if (std::regex_search(text, m, pattern))
            return m.size() > 1 ? m[1].str() : m[0].str();
    }
    return {};
}

struct Tally {
    std::mutex mutex;
    uint64_t released = 0, failed = 0, mixed = 0, went_back = 0;
    std::vector<uint64_t> per_generation = std::vector<uint64_t>(RELOADS + 1);
    std::string first_problem;

    void problem(uint64_t& counter, const std::string& what)
    {
        std::lock_guard lock(mutex);
        ++counter;
        if (first_problem.empty())
            first_problem = what;
    }
};

std::string text_of(const SecretBytes& s)
{
    return {reinterpret_cast<const char*>(s.expose().data()), s.size()};
}

// One client: attests for {a, b} until `stop`, checking each answer.
void client_loop(const client::ClientOptions& options, const sim::Platform& platform, std::atomic<bool>& stop,
                 Tally& tally)
{
    sim::LaunchState launch;
    auto m = from_hex(MEASUREMENT);
    std::copy(m->begin(), m->end(), launch.measurement.begin());
    auto psp = sim::SimulatedPsp::create(platform, launch).release_value();
    std::vector<Bytes> certs;
    for (const snp::CertEntry& e : snp::parse_cert_table(psp.cert_table()).release_value())
        certs.push_back(e.der);
    int last = -1;
    while (!stop.load()) {
        auto session = client::Session::begin(options);
        if (!session) {
            tally.problem(tally.failed, "challenge: " + std::string(session.error().message()));
            continue;
        }
        Bytes report = psp.get_report(session->report_data(), 0).release_value();
        auto released = session->complete(std::move(report), certs);
        if (!released) {
            tally.problem(tally.failed, "attest: " + std::string(released.error().message()));
            continue;
        }
        std::string a = text_of(released->secrets.at(0).value), b = text_of(released->secrets.at(1).value);
        if (a != b || a.rfind("gen-", 0) != 0) {
            tally.problem(tally.mixed, "an answer with a=" + a + " and b=" + b);
            continue;
        }
        int generation = atoi(a.c_str() + 4);
        if (generation < last)
            tally.problem(tally.went_back, "gen-" + std::to_string(generation) + " after gen-" + std::to_string(last));
        last = generation;
        std::lock_guard lock(tally.mutex);
        ++tally.released;
        ++tally.per_generation.at(static_cast<size_t>(generation));
    }
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: reload_under_load CVM\n");
        return 2;
    }
    auto started = Clock::now();
    std::string tmpl = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/cvm_reload_XXXXXX";
    std::string dir = mkdtemp(tmpl.data());
    std::string log = dir + "/broker.log";

    sim::Platform platform = sim::create_platform({}).release_value();
    write(dir + "/ark.der", {reinterpret_cast<const char*>(platform.ark_der.data()), platform.ark_der.size()});
    // Revocation stays on: the simulated CRL is re-read on every reload, as a new one is below.
    auto write_crl = [&](uint64_t number) {
        sim::CrlOptions o;
        o.crl_number = number;
        Bytes crl = sim::make_crl(platform, o).release_value();
        write(dir + "/crl.der", {reinterpret_cast<const char*>(crl.data()), crl.size()});
    };
    write_crl(1);
    proto::Ed25519KeyPair key = proto::Ed25519KeyPair::generate();
    SecretBytes pem = proto::ed25519_private_pem(key);
    write(dir + "/broker.key", {reinterpret_cast<const char*>(pem.expose().data()), pem.size()});
    write(dir + "/a.secret", "gen-0");
    write(dir + "/b.secret", "gen-0");
    write(dir + "/broker.toml",
          "listen = \"127.0.0.1:0\"\nmetrics_listen = \"127.0.0.1:0\"\n"
          "signing_key = \"broker.key\"\nsimulated_root = \"ark.der\"\nsimulated_crl = \"crl.der\"\n"
          "[policy]\nmeasurements = [\"" +
              MEASUREMENT +
              "\"]\nallow_simulated = true\n"
              "[[secret]]\nname = \"a\"\nfile = \"a.secret\"\nmeasurements = [\"" +
              MEASUREMENT +
              "\"]\n"
              "[[secret]]\nname = \"b\"\nfile = \"b.secret\"\nmeasurements = [\"" +
              MEASUREMENT + "\"]\n");

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::string config = dir + "/broker.toml";
    char* child_argv[] = {argv[1], const_cast<char*>("broker"), const_cast<char*>("--config"), config.data(), nullptr};
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, argv[1], &actions, nullptr, child_argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        fprintf(stderr, "cannot run %s: %s\n", argv[1], strerror(spawned));
        return 1;
    }
    auto fail = [&](const std::string& why) {
        fprintf(stderr, "FAILED: %s\n--- broker log ---\n%s", why.c_str(), read(log).c_str());
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        std::filesystem::remove_all(dir);
        return 1;
    };
    std::string port =
        wait_for(log, std::regex("listening on http://127\\.0\\.0\\.1:([0-9]+)"), started + std::chrono::seconds(20));
    if (port.empty() || wait_for(log, std::regex("metrics on"), started + std::chrono::seconds(20)).empty())
        return fail("the broker did not start");

    client::ClientOptions options;
    options.broker_url = "http://127.0.0.1:" + port;
    options.broker_key = key.public_key();
    options.resources = {"a", "b"};
    std::atomic<bool> stop{false};
    Tally tally;
    std::vector<std::thread> clients;
    for (int i = 0; i < CLIENTS; ++i)
        clients.emplace_back([&] { client_loop(options, platform, stop, tally); });

    int reloads = 0;
    std::string why;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    for (int g = 1; g <= RELOADS && why.empty(); ++g) {
        // Both files before the signal; the next pair only once this reload is done, so the broker
        // never reads a half-rotated pair (an operator must do the same).
        write(dir + "/a.secret", "gen-" + std::to_string(g));
        write(dir + "/b.secret", "gen-" + std::to_string(g));
        write_crl(static_cast<uint64_t>(g) + 1);
        kill(pid, SIGHUP);
        std::regex done("now configuration generation " + std::to_string(g + 1) + "\\b");
        if (wait_for(log, done, started + DEADLINE).empty())
            why = "reload " + std::to_string(g) + " did not complete";
        else
            ++reloads;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));  // attests on this generation
    }
    stop = true;
    for (std::thread& t : clients)
        t.join();
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();

    printf("reloads %d, attests released %llu, failed %llu, mixed %llu, older after newer %llu, %.1f s\n", reloads,
           static_cast<unsigned long long>(tally.released), static_cast<unsigned long long>(tally.failed),
           static_cast<unsigned long long>(tally.mixed), static_cast<unsigned long long>(tally.went_back), seconds);
    printf("attests per generation:");
    uint64_t generations_seen = 0;
    for (uint64_t n : tally.per_generation) {
        printf(" %llu", static_cast<unsigned long long>(n));
        generations_seen += n > 0;
    }
    printf("\n");
    if (why.empty() && !tally.first_problem.empty())
        why = tally.first_problem;
    if (why.empty() && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        why = "the broker did not exit 0 on SIGTERM";
    // Attests must have run across the reloads, not only before or after them.
    if (why.empty() && generations_seen < RELOADS / 2)
        why = "attests reached only " + std::to_string(generations_seen) + " generations";
    if (why.empty() && seconds > std::chrono::duration<double>(DEADLINE).count())
        why = "took longer than the deadline";
    if (!why.empty())
        return fail(why);
    std::filesystem::remove_all(dir);
    printf("ok\n");
    return 0;
}
