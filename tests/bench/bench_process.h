// Benchmark plumbing: timed child processes with their peak RSS, and scratch input files.
// For benchmarks only: failures to create scratch files abort the benchmark with a message.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cvm::bench {

// One finished child: `ok` when it exited 0; wall time from spawn to exit; its peak RSS
// (wait4's ru_maxrss, which covers that process alone).
struct Run {
    bool ok{false};
    int status{-1};
    double wall_ms{0};
    long max_rss_kib{0};
};

class Runner {
public:
    // CVM_BENCH_RUNS (default 3) runs per figure.
    Runner();
    // Spawns argv[0] (searched in PATH) with stdout to /dev/null and `extra_env` added to the
    // environment, and waits for it.
    Run once(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {}) const;
    // The fastest of the runs (the one least disturbed), with the largest peak RSS seen; not ok
    // if any run failed.
    Run best(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {}) const;

private:
    int m_runs;
};

// A scratch directory under $TMPDIR (or /tmp), removed with its files at destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    // Registers `name` for removal and returns its path.
    std::string path(const std::string& name);

private:
    std::string m_dir;
    std::vector<std::string> m_files;
};

// Writes `size` bytes of seeded pseudo-random data (xorshift, 1 MiB at a time).
void write_pattern_file(const std::string& path, size_t size, uint64_t seed);

// The size of a regular file, 0 when it does not exist or is not regular.
size_t file_size(const std::string& path);

// The names in a directory (empty when unreadable), sorted.
std::vector<std::string> list_dir(const std::string& dir);

// This executable's path, for re-running it in a child mode.
std::string self_path();

// A positive number from the environment, or `fallback`.
size_t env_number(const char* name, size_t fallback);

}  // namespace cvm::bench
