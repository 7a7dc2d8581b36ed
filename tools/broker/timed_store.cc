#include "timed_store.h"

#include <chrono>

namespace cvm::broker {
namespace {

// Calls `call`, then records its duration and whether it succeeded under `op`.
template <typename Call>
auto timed(Metrics& metrics, std::string_view op, Call call)
{
    auto started = std::chrono::steady_clock::now();
    auto result = call();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics.store_request(op, result.ok(), seconds);
    return result;
}

}  // namespace

Result<bool> TimedStore::set_if_absent(std::string_view key, ByteView value, int64_t ttl_seconds)
{
    return timed(m_metrics, "set_if_absent", [&] { return m_inner.set_if_absent(key, value, ttl_seconds); });
}

Result<void> TimedStore::put(std::string_view key, ByteView value, int64_t ttl_seconds)
{
    return timed(m_metrics, "put", [&] { return m_inner.put(key, value, ttl_seconds); });
}

Result<std::optional<Bytes>> TimedStore::get(std::string_view key)
{
    return timed(m_metrics, "get", [&] { return m_inner.get(key); });
}

Result<bool> TimedStore::compare_and_set(std::string_view key, std::optional<ByteView> expected,
                                         std::optional<ByteView> value)
{
    return timed(m_metrics, "compare_and_set", [&] { return m_inner.compare_and_set(key, expected, value); });
}

Result<void> TimedStore::ping()
{
    return timed(m_metrics, "ping", [&] { return m_inner.ping(); });
}

}  // namespace cvm::broker
