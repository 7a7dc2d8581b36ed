// Benchmark (numbers, never a verdict): report parsing, full chain + signature verification cold
// and with the chain cached per VCEK, cached verifications per second on 1 and 2 threads sharing
// one Verifier (no global lock: 2 threads should do about twice the work on 2 idle cores), and
// the wall time of a whole `cvm verify` process.
//
// Issue 14's speed figures, measured in the same run:
//   - a verification whose chain is cached, next to one ECDSA P-384 verification by mbedTLS with
//     the cached key and by OpenSSL (`openssl speed -seconds 1 ecdsap384`, its verify/s);
//   - process start-up: `cvm --help` against `cvm verify --help` and a whole `cvm verify` of a
//     real report with revocation off (the fastest path that verifies), fastest of several runs.
// Usage: bench_verify CVM_BINARY
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <optional>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <vector>

#include "base/file.h"
#include "snp/report.h"
#include "verify/crl.h"
#include "verify/signatures.h"
#include "verify/verifier.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

const std::string VECTORS = std::string(CVM_VECTORS_DIR) + "/snp-reports/virtee_milan_v2";
const std::string CRL = std::string(CVM_VECTORS_DIR) + "/snp-reports/amd_crls/milan_vcek_reprobuild-n12.crl";

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
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    if (rc != 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The fastest of `runs` runs of `argv`, in milliseconds; -1 when a run did not exit 0.
double best_process_ms(const std::vector<std::string>& argv, int runs)
{
    double best = 1e9;
    for (int i = 0; i < runs; ++i) {
        auto start = Clock::now();
        if (run_process(argv) != 0)
            return -1;
        best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    return best;
}

// OpenSSL's ECDSA P-384 verifications per second from `openssl speed -seconds 1 ecdsap384`, whose
// result line is " 384 bits ecdsa (nistp384)   0.0010s   0.0006s    998.1   1788.9" (sign, verify,
// sign/s, verify/s); nullopt when openssl is missing or prints something else.
std::optional<double> openssl_p384_verifies_per_second()
{
    FILE* pipe = popen("openssl speed -seconds 1 ecdsap384 2>/dev/null", "r");
    if (!pipe)
        return std::nullopt;
    std::optional<double> out;
    char line[512];
    while (fgets(line, sizeof line, pipe)) {
        std::string text = line;
        if (text.find("ecdsa (nistp384)") == std::string::npos)
            continue;
        double sign_s = 0, verify_s = 0, sign_per_s = 0, verify_per_s = 0;
        if (sscanf(text.c_str() + text.find(')') + 1, "%lfs %lfs %lf %lf", &sign_s, &verify_s, &sign_per_s,
                   &verify_per_s) == 4 &&
            verify_per_s > 0)
            out = verify_per_s;
    }
    pclose(pipe);
    return out;
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
Rate parallel_rate(cvm::verify::Verifier& verifier, const cvm::verify::Evidence& evidence,
                   const cvm::verify::VerifyOptions& options, int threads)
{
    std::atomic<uint64_t> done{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> pool;
    auto start = Clock::now();
    double cpu_start = cpu_seconds();
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
                if (verifier.verify(evidence, options).pass())
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
    // Revocation off for the figures that compare with earlier runs and with OpenSSL's bare
    // ECDSA; on, with a real AMD CRL of the product, for the broker's path.
    cvm::verify::VerifyOptions off;
    off.revocation_off_by = "bench_verify";
    cvm::verify::Evidence with_crl = evidence;
    with_crl.crl = must_read(CRL);
    cvm::verify::VerifyOptions on;
    on.crl_now = cvm::verify::Crl::parse(with_crl.crl).value().next_update_time().value() - 3600;
    if (!verifier->verify(evidence, off).pass() || !verifier->verify(with_crl, on).pass()) {
        fprintf(stderr, "bench_verify: the Milan vector does not verify\n");
        return 1;
    }

    volatile uint32_t sink = 0;
    // What every cvm verify process pays before any evidence: the nine built-in AMD certificates
    // parsed and checked against their pins.
    double create = per_op_us(50, [&] { sink = sink + (cvm::verify::Verifier::create().ok() ? 1u : 0u); });
    double parse = per_op_us(200000, [&] { sink = sink + cvm::snp::parse_report(evidence.report).value().version; });
    double cold = per_op_us(50, [&] {
        verifier->clear_cache();
        sink = sink + verifier->verify(evidence, off).pass();
    });
    double cached = per_op_us(500, [&] { sink = sink + verifier->verify(evidence, off).pass(); });
    double cached_crl = per_op_us(500, [&] { sink = sink + verifier->verify(with_crl, on).pass(); });
    // The floor under `cached`: the ECDSA verification alone, with the VEK key parsed once as the
    // Verifier's cache holds it.
    auto report = cvm::snp::parse_report(evidence.report).release_value();
    auto vek = cvm::verify::Certificate::parse(evidence.vek).release_value();
    auto key = cvm::verify::ReportKey::create(vek).release_value();
    cvm::ByteView signed_bytes = cvm::ByteView(evidence.report).first(cvm::snp::SIGNED_SIZE);
    double ecdsa = per_op_us(500, [&] {
        sink = sink +
               cvm::verify::verify_report_signature(signed_bytes, report.signature_r, report.signature_s, *key).ok();
    });
    std::optional<double> openssl = openssl_p384_verifies_per_second();
    Rate one = parallel_rate(*verifier, evidence, off, 1);
    Rate two = parallel_rate(*verifier, evidence, off, 2);
    // Revocation off: the vectors' CRLs are past their nextUpdate, and cvm verify checks a CRL's
    // dates against the clock. (A cvm from before --no-revocation verifies without the flag.)
    std::vector<std::string> cmd = {argv[1],   "verify", "--report",       VECTORS + "/report.bin",
                                    "--certs", VECTORS,  "--no-revocation"};
    if (run_process(cmd) != 0)
        cmd.pop_back();
    const bool cvm_verifies = run_process(cmd) == 0;
    if (!cvm_verifies)
        fprintf(stderr, "bench_verify: %s verify does not pass the vector: no process figures\n", argv[1]);
    double process =
        cvm_verifies ? per_op_us(20, [&] { sink = sink + static_cast<uint32_t>(run_process(cmd)); }) / 1000.0 : -1;
    const std::string cvm = argv[1];
    double help_ms = best_process_ms({cvm, "--help"}, 30);
    double verify_help_ms = best_process_ms({cvm, "verify", "--help"}, 30);
    double verify_ms = cvm_verifies ? best_process_ms(cmd, 30) : -1;

    printf("bench verify: Verifier::create        %10.3f us/op (9 built-in AMD certificates parsed and pinned)\n",
           create);
    printf("bench verify: report parse            %10.3f us/op\n", parse);
    printf("bench verify: chain+signature, cold   %10.3f us/op (ARK, ASK, VCEK RSA-PSS + ECDSA P-384)\n", cold);
    printf("bench verify: chain+signature, cached %10.3f us/op (VCEK chain and key cached; ECDSA P-384 only)\n",
           cached);
    printf("bench verify: cached, with AMD's CRL  %10.3f us/op (revocation on: CRL parsed, its signature cached)\n",
           cached_crl);
    printf("bench verify: cached, 1 thread        %10.0f verifications/s (%.2f CPUs busy)\n", one.per_second, one.cpus);
    printf("bench verify: cached, 2 threads       %10.0f verifications/s (%.2fx; %.2f CPUs busy; %u hardware "
           "threads; load average %s)\n",
           two.per_second, two.per_second / one.per_second, two.cpus, std::thread::hardware_concurrency(),
           load_average().c_str());
    if (cvm_verifies)
        printf("bench verify: cvm verify process      %10.3f ms/run (%s)\n", process, argv[1]);
    printf("bench verify: ECDSA P-384, mbedTLS    %10.3f us/op (report signature under the cached VEK key)\n", ecdsa);
    if (openssl)
        printf("bench verify: ECDSA P-384, OpenSSL    %10.3f us/op (openssl speed -seconds 1 ecdsap384: %.1f "
               "verify/s)\n",
               1e6 / *openssl, *openssl);
    else
        printf("bench verify: ECDSA P-384, OpenSSL    (openssl speed did not run)\n");
    if (openssl)
        printf("bench verify: cached verification     %10.2fx one OpenSSL P-384 verification, %.2fx mbedTLS's\n",
               cached / (1e6 / *openssl), cached / ecdsa);
    printf("bench verify: start-up, cvm --help    %10.3f ms (fastest of 30)\n", help_ms);
    printf("bench verify: start-up, verify --help %10.3f ms (%.2fx cvm --help)\n", verify_help_ms,
           verify_help_ms / help_ms);
    if (cvm_verifies)
        printf("bench verify: start-up, verify report %10.3f ms (%.2fx cvm --help; %s)\n", verify_ms,
               verify_ms / help_ms, cmd.back() == "--no-revocation" ? "--no-revocation" : "revocation not in this cvm");
    return 0;
}
