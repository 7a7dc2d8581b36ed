// Where the broker gets a VCEK when the attest request carries none: its in-memory cache, then
// the KDS client (kds/kds_client.h: on-disk cache with a TTL, stale fallback, Retry-After).
//
// Cached by (CHIP_ID, REPORTED_TCB): AMD issues one VCEK per chip and TCB, so a cached VCEK is
// exactly the one KDS would return. Entries are never trusted because they are cached: the
// verify layer checks every VCEK against its chain and the report, every time.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "kds/kds_client.h"
#include "metrics.h"
#include "snp/report.h"

namespace cvm::broker {

class VcekSource {
public:
    // The broker makes one only when its configuration has a [kds] table.
    VcekSource(std::unique_ptr<kds::KdsClient> kds, Metrics& metrics, size_t capacity = 4096)
            : m_kds(std::move(kds)), m_metrics(metrics), m_capacity(capacity)
    {
    }

    // The DER VCEK for this report. Errors from the KDS client pass through unchanged:
    // Errc::Unavailable means KDS cannot be reached and nothing is cached (retryable).
    Result<Bytes> vcek_for(const snp::AttestationReport& report);

private:
    using Key = std::pair<std::array<uint8_t, 64>, uint64_t>;

    std::unique_ptr<kds::KdsClient> m_kds;
    Metrics& m_metrics;
    size_t m_capacity;
    std::mutex m_mutex;
    std::map<Key, Bytes> m_cache;
};

}  // namespace cvm::broker
