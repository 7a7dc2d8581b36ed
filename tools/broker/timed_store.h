// A Store that times every call of another and counts its result in Metrics
// (cvm_broker_store_requests_total, cvm_broker_store_duration_seconds), so the shared store's
// health shows in the broker's metrics whatever the store is. Calls pass through unchanged,
// failures included. Thread-safe when the inner store is; both must outlive it.
#pragma once

#include "metrics.h"
#include "store.h"

namespace cvm::broker {

class TimedStore final : public Store {
public:
    TimedStore(Store& inner, Metrics& metrics) : m_inner(inner), m_metrics(metrics) {}

    Result<bool> set_if_absent(std::string_view key, ByteView value, int64_t ttl_seconds) override;
    Result<void> put(std::string_view key, ByteView value, int64_t ttl_seconds) override;
    Result<std::optional<Bytes>> get(std::string_view key) override;
    Result<bool> compare_and_set(std::string_view key, std::optional<ByteView> expected,
                                 std::optional<ByteView> value) override;
    Result<void> ping() override;
    std::string describe() const override { return m_inner.describe(); }
    std::optional<int64_t> remembers_since() const override { return m_inner.remembers_since(); }

private:
    Store& m_inner;
    Metrics& m_metrics;
};

}  // namespace cvm::broker
