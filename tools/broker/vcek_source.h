// Where the broker gets a VCEK when the attest request carries none, and how a flood of reports
// for unknown chips is kept from starving everyone else of KDS; and where it gets AMD's CRLs.
//
// Order of one look-up, by (CHIP_ID, REPORTED_TCB) — AMD issues one VCEK per chip and TCB:
//   1. the Store's cache entry (store_keys::cache of the KDS cache key), fresh for
//      cache_ttl_seconds; shared by replicas with a RedisStore;
//   2. the Store's negative entry (store_keys::kds_miss): KDS said it has no such VCEK (404) less
//      than miss_ttl_seconds ago, so the look-up is refused (NotFound) without asking again;
//   3. a look-up already in flight in this process for the same chip and TCB is joined, not
//      repeated (single flight): N concurrent attests of one new chip make one KDS request;
//   4. the client's budget: each client address (the peer without its port) may start at most
//      unknown_chip_budget KDS look-ups per budget_window_seconds; past it the look-up is refused
//      (ClientBudget, retry after the window) without touching KDS or the store's negative cache;
//   5. the KDS client (kds/kds_client.h: its own disk cache, stale fallback, and a 429 that
//      pauses only the object it answered). A VCEK fetched is stored for STORED_VCEK_SECONDS;
//      an older stored copy is still used when KDS cannot be reached (stale fallback).
// CRLs (crl_for), one per product and key family, take the same path without the budget (there
// are six of them, not one per chip): the Store's entry, fresh for cache_ttl_seconds and while
// the CRL's own nextUpdate has not passed; a flight in progress joined; the KDS client. When KDS
// cannot be reached, a stored or disk-cached copy is used until its nextUpdate (the verifier
// checks the dates again on every attest); past it, nothing usable is left: KdsUnavailable.
//
// Nothing read from the Store is trusted: it is bounded in size here and the verify layer checks
// every VCEK against its pinned chain and the report, every time, wherever it came from. A Store
// that cannot be reached only costs the cache: the look-up goes on to KDS (the nonce, recorded
// before, already failed closed if the store is down).
//
// Thread-safe. Budgets are per process (each replica counts its own); at most max_clients
// clients are remembered, the least recently charged forgotten first.
#pragma once

#include <array>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kds/clock.h"
#include "kds/kds_client.h"
#include "metrics.h"
#include "snp/report.h"
#include "store.h"

namespace cvm::broker {

struct VcekSourceOptions {
    int64_t cache_ttl_seconds = 24 * 3600;  // a stored VCEK younger than this is used without KDS
    int64_t miss_ttl_seconds = 300;         // how long a KDS 404 is remembered
    uint32_t unknown_chip_budget = 4;       // KDS look-ups a client may start per window
    int64_t budget_window_seconds = 60;
    size_t max_clients = 4096;
};

// How long a fetched VCEK stays in the Store: fresh for cache_ttl_seconds, then a stale fallback.
inline constexpr int64_t STORED_VCEK_SECONDS = 30 * 24 * 3600;

enum class VcekRefusal : uint8_t {
    KdsUnavailable,  // KDS cannot be reached (or rate-limits this VCEK) and nothing is stored
    NotFound,        // KDS has no such VCEK (404, perhaps remembered), or the report names none
    ClientBudget,    // this client started its budget of KDS look-ups for unknown chips
};

// How long a fetched CRL stays in the Store (a stale fallback is bounded by its nextUpdate anyway).
inline constexpr int64_t STORED_CRL_SECONDS = 30 * 24 * 3600;

struct VcekAnswer {
    std::optional<Bytes> vcek;  // the DER VCEK, not verified
    VcekRefusal refusal{VcekRefusal::NotFound};
    Error error{};           // why there is no VCEK: names the cause, the chip and the window
    int64_t retry_after{0};  // seconds, for ClientBudget and KdsUnavailable

    bool ok() const { return vcek.has_value(); }
};

struct CrlAnswer {
    std::optional<Bytes> crl;                    // DER or PEM, as KDS served it; not verified
    VcekRefusal refusal{VcekRefusal::NotFound};  // KdsUnavailable or NotFound
    Error error{};
    int64_t retry_after{0};

    bool ok() const { return crl.has_value(); }
};

class VcekSource {
public:
    // The broker makes one only when its configuration has a [kds] table. `store`, `metrics` and
    // `clock` must outlive it.
    VcekSource(std::unique_ptr<kds::KdsClient> kds, Store& store, Metrics& metrics, kds::Clock& clock,
               VcekSourceOptions options = {});

    // The DER VCEK for this report, for the request from `peer` ("address:port").
    VcekAnswer vcek_for(const snp::AttestationReport& report, std::string_view peer);

    // AMD's CRL of `product` and `family` (KDS /vcek|vlek/v1/{P}/crl), as described above.
    CrlAnswer crl_for(snp::Product product, kds::KeyFamily family);

    // KDS requests this source's client has sent (for tests and metrics).
    uint64_t kds_requests() const { return m_kds->requests_sent(); }

private:
    template <typename Answer>
    struct Flight {
        bool done{false};
        Answer answer;
    };
    struct Budget {
        int64_t window_start{0};
        uint32_t used{0};
    };

    VcekAnswer fetch(const kds::VcekId& id, const std::string& key, std::optional<Bytes> stale);
    CrlAnswer fetch_crl(snp::Product product, kds::KeyFamily family, const std::string& key,
                        std::optional<Bytes> stale);
    // Whether `crl` parses and its nextUpdate has not passed at `now`.
    static bool current(ByteView crl, int64_t now);
    // Charges `client` one look-up; the seconds until its window ends when it has none left.
    std::optional<int64_t> charge(const std::string& client, int64_t now);

    std::unique_ptr<kds::KdsClient> m_kds;
    Store& m_store;
    Metrics& m_metrics;
    kds::Clock& m_clock;
    VcekSourceOptions m_options;

    std::mutex m_mutex;  // guards the flights and budgets
    std::condition_variable m_landed;
    std::map<std::string, std::shared_ptr<Flight<VcekAnswer>>> m_flights;  // by KDS cache key
    std::map<std::string, std::shared_ptr<Flight<CrlAnswer>>> m_crl_flights;
    std::map<std::string, Budget> m_budgets;  // by client address
};

// "10.0.0.7" from "10.0.0.7:40522", "[2001:db8::1]" from "[2001:db8::1]:40522".
std::string client_address(std::string_view peer);

}  // namespace cvm::broker
