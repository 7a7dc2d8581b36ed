// A Store that can be taken down, for the broker's fail-closed paths. While down, every call
// fails as a real store does when its server cannot be reached: Errc::Unavailable naming the
// cause (store.h's contract, which RedisStore follows for a refused or lost connection), and
// nothing is written. Up, it is the MemoryStore it wraps.
#pragma once

#include <atomic>

#include "store.h"

namespace cvm::test {

class FailingStore final : public broker::Store {
public:
    explicit FailingStore(kds::Clock* clock = nullptr) : m_memory(clock) {}

    // Down now, or after `calls` more calls have succeeded (a store lost in the middle of an
    // attest); up again with set_down(false).
    void set_down(bool down) { m_calls_left = down ? 0 : -1; }
    void fail_after(int calls) { m_calls_left = calls; }
    int failed_calls() const { return m_failed; }
    broker::MemoryStore& memory() { return m_memory; }

    Result<bool> set_if_absent(std::string_view key, ByteView value, int64_t ttl_seconds) override
    {
        TRY(reach());
        return m_memory.set_if_absent(key, value, ttl_seconds);
    }
    Result<void> put(std::string_view key, ByteView value, int64_t ttl_seconds) override
    {
        TRY(reach());
        return m_memory.put(key, value, ttl_seconds);
    }
    Result<std::optional<Bytes>> get(std::string_view key) override
    {
        TRY(reach());
        return m_memory.get(key);
    }
    Result<bool> compare_and_set(std::string_view key, std::optional<ByteView> expected,
                                 std::optional<ByteView> value) override
    {
        TRY(reach());
        return m_memory.compare_and_set(key, expected, value);
    }
    Result<void> ping() override { return reach(); }
    std::string describe() const override { return "redis://127.0.0.1:1/0"; }

private:
    Result<void> reach()
    {
        int left = m_calls_left.load();
        while (left > 0 && !m_calls_left.compare_exchange_weak(left, left - 1)) {
        }
        if (left == 0) {
            ++m_failed;
            return Error::make(Errc::Unavailable, "store redis://127.0.0.1:1/0: connect: Connection refused");
        }
        return {};
    }

    broker::MemoryStore m_memory;
    std::atomic<int> m_calls_left{-1};  // -1: up; 0: down; n: down after n more calls
    std::atomic<int> m_failed{0};
};

}  // namespace cvm::test
