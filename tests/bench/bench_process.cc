#include "bench_process.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace cvm::bench {

namespace {

[[noreturn]] void die(const char* what, const std::string& path)
{
    fprintf(stderr, "bench: cannot %s %s: %s\n", what, path.c_str(), strerror(errno));
    exit(2);
}

}  // namespace

Runner::Runner() : m_runs(static_cast<int>(env_number("CVM_BENCH_RUNS", 3))) {}

Run Runner::once(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env) const
{
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env;
    for (char** e = environ; *e; ++e)
        env.push_back(*e);
    for (const auto& e : extra_env)
        env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    Run run;
    auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    struct rusage usage {};
    if (rc != 0 || wait4(pid, &status, 0, &usage) < 0)
        return run;
    run.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.ok = run.status == 0;
    run.max_rss_kib = usage.ru_maxrss;
    return run;
}

Run Runner::best(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env) const
{
    Run best;
    for (int i = 0; i < m_runs; ++i) {
        Run r = once(argv, extra_env);
        if (!r.ok)
            return r;
        long rss = std::max(best.max_rss_kib, r.max_rss_kib);
        if (i == 0 || r.wall_ms < best.wall_ms)
            best = r;
        best.max_rss_kib = rss;
    }
    return best;
}

TempDir::TempDir()
{
    const char* base = getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/cvm-bench-XXXXXX";
    if (!mkdtemp(templ.data()))
        die("create a directory like", templ);
    m_dir = templ;
}

TempDir::~TempDir()
{
    for (const auto& f : m_files)
        unlink(f.c_str());
    rmdir(m_dir.c_str());
}

std::string TempDir::path(const std::string& name)
{
    m_files.push_back(m_dir + "/" + name);
    return m_files.back();
}

void write_pattern_file(const std::string& path, size_t size, uint64_t seed)
{
    constexpr size_t CHUNK = 1 << 20;
    std::unique_ptr<uint64_t[]> buf(new uint64_t[CHUNK / 8]);
    FILE* f = fopen(path.c_str(), "wb");
    if (!f)
        die("create", path);
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t left = size; left > 0;) {
        for (size_t i = 0; i < CHUNK / 8; ++i) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = x;
        }
        size_t n = std::min(left, CHUNK);
        if (fwrite(buf.get(), 1, n, f) != n)
            die("write", path);
        left -= n;
    }
    if (fclose(f) != 0)
        die("write", path);
}

size_t file_size(const std::string& path)
{
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0;
}

std::vector<std::string> list_dir(const std::string& dir)
{
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d))
            names.emplace_back(e->d_name);
        closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string self_path()
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        die("resolve", "/proc/self/exe");
    return std::string(buf, static_cast<size_t>(n));
}

size_t env_number(const char* name, size_t fallback)
{
    const char* v = getenv(name);
    long n = v ? strtol(v, nullptr, 10) : 0;
    return n > 0 ? static_cast<size_t>(n) : fallback;
}

}  // namespace cvm::bench
