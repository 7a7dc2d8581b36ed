// Helpers shared by the KDS tests: a clock the test moves by hand and a scratch directory.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "kds/clock.h"

namespace cvm::test {

class FakeClock final : public kds::Clock {
public:
    explicit FakeClock(int64_t start = 1'700'000'000) : m_now(start) {}
    int64_t now() override { return m_now; }
    void sleep(int64_t seconds) override
    {
        m_slept += seconds;
        m_now += seconds;
    }
    void advance(int64_t seconds) { m_now += seconds; }
    int64_t slept() const { return m_slept; }

private:
    int64_t m_now;
    int64_t m_slept{0};
};

// A fresh directory under /tmp, removed with everything in it at scope exit.
class ScratchDir {
public:
    ScratchDir()
    {
        char tmpl[] = "/tmp/cvm-kds-test-XXXXXX";
        m_path = mkdtemp(tmpl) ? tmpl : "";
    }
    ~ScratchDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

}  // namespace cvm::test
