// Benchmark (numbers, never a verdict): report parsing, full chain + signature verification cold
// and with the chain cached per VCEK, cached verifications per second on 1 and 2 threads sharing
// one Verifier (no global lock: 2 threads should do about twice the work on 2 idle cores), and
// the wall time of a whole `cvm verify` process.
// Usage: bench_verify CVM_BINARY
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <vector>

#include "base/file.h"
#include "snp/report.h"
#include "verify/verifier.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

const std::string VECTORS = std::string(CVM_VECTORS_DIR) + "/snp-reports/virtee_milan_v2";

template <typename F>
double per_op_us(int iterations, F&& body)
{
    auto start = Clock::now();
    for (int i = 0; i < iterations; ++i)
        body();
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / iterations;
}

cvm::Bytes must_read(const std::string& path)
{
    auto data = cvm::read_file(path, 1 << 20);
    if (!data.ok()) {
        fprintf(stderr, "bench_verify: %s\n", std::string(data.error().message()).c_str());
        exit(2);
    }
    return data.release_value();
}

int run_process(const std::vector<std::string>& argv)
{
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    if (rc != 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string load_average()
{
    auto text = cvm::read_file("/proc/loadavg", 256);
    if (!text.ok())
        return "?";
    std::string s(text.value().begin(), text.value().end());
    return s.substr(0, s.find(' '));
}

double cpu_seconds()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Rate {
    double per_second;
    double cpus;  // CPU seconds per wall second: at most 1 if verifications were serialized
};

// Verifications per second of `threads` threads sharing `verifier` for about two seconds.
Rate parallel_rate(cvm::verify::Verifier& verifier, const cvm::verify::Evidence& evidence, int threads)
{
    std::atomic<uint64_t> done{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> pool;
    auto start = Clock::now();
    double cpu_start = cpu_seconds();
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
                if (verifier.verify(evidence).pass())
                    done.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
    stop.store(true);
    for (auto& t : pool)
        t.join();
    double wall = std::chrono::duration<double>(Clock::now() - start).count();
    return {static_cast<double>(done.load()) / wall, (cpu_seconds() - cpu_start) / wall};
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_verify CVM_BINARY\n");
        return 2;
    }
    cvm::verify::Evidence evidence;
    evidence.report = must_read(VECTORS + "/report.bin");
    evidence.vek = must_read(VECTORS + "/vcek.der");
    auto verifier = cvm::verify::Verifier::create().release_value();
    if (!verifier->verify(evidence).pass()) {
        fprintf(stderr, "bench_verify: the Milan vector does not verify\n");
        return 1;
    }

    volatile uint32_t sink = 0;
    double parse = per_op_us(200000, [&] { sink = sink + cvm::snp::parse_report(evidence.report).value().version; });
    double cold = per_op_us(50, [&] {
        verifier->clear_cache();
        sink = sink + verifier->verify(evidence).pass();
    });
    double cached = per_op_us(500, [&] { sink = sink + verifier->verify(evidence).pass(); });
    Rate one = parallel_rate(*verifier, evidence, 1);
    Rate two = parallel_rate(*verifier, evidence, 2);
    std::vector<std::string> cmd = {argv[1], "verify", "--report", VECTORS + "/report.bin", "--certs", VECTORS};
    if (run_process(cmd) != 0) {
        fprintf(stderr, "bench_verify: %s verify failed\n", argv[1]);
        return 1;
    }
    double process = per_op_us(20, [&] { sink = sink + static_cast<uint32_t>(run_process(cmd)); }) / 1000.0;

    printf("bench verify: report parse            %10.3f us/op\n", parse);
    printf("bench verify: chain+signature, cold   %10.3f us/op (ARK, ASK, VCEK RSA-PSS + ECDSA P-384)\n", cold);
    printf("bench verify: chain+signature, cached %10.3f us/op (VCEK chain cached; ECDSA P-384 only)\n", cached);
    printf("bench verify: cached, 1 thread        %10.0f verifications/s (%.2f CPUs busy)\n", one.per_second, one.cpus);
    printf("bench verify: cached, 2 threads       %10.0f verifications/s (%.2fx; %.2f CPUs busy; %u hardware "
           "threads; load average %s)\n",
           two.per_second, two.per_second / one.per_second, two.cpus, std::thread::hardware_concurrency(),
           load_average().c_str());
    printf("bench verify: cvm verify process      %10.3f ms/run (%s)\n", process, argv[1]);
    return 0;
}
