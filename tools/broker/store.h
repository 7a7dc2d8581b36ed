// The broker's shared state: what must hold across replicas and restarts, behind one interface.
//
// Six kinds of entry, each under its own key prefix (store_keys below):
//   nonce:    a used challenge nonce, until its expiry: single use across every replica
//   cache:    KDS objects (VCEK, ASK/ARK chain, CRL) with the time they were fetched
//   kds-miss: a KDS look-up that failed (404), so a flood of unknown chips asks KDS once
//   release:  a once_per_launch resource released to a REPORT_ID, and to which agent key
//   volume:   the generation a data volume's disk must report next (volume_generations.h)
//   recover:  an operator's one-time permission to release a volume's recovery key
//
// Apart from the volume entries, the store is never a source of trust: a certificate read from it is verified against
// the pinned roots exactly as one fresh from KDS would be; a release record only ever makes the broker refuse. Its
// failure is never a reason to release: every call that cannot reach the store fails with Errc::Unavailable, which the
// broker answers as STORE_UNAVAILABLE (503, Retry-After) before anything is released. The volume entries are state the
// broker keeps for its operator (the highest generation it issued): whoever can write the store can reset them, as `cvm
// broker volume reset` does, so the store is as trusted as the broker's configuration.
//
// MemoryStore is the store of one process (no [store] table: nothing to install). RedisStore
// (redis_store.h) is the one replicas share. Both are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "kds/clock.h"

namespace cvm::broker {

class Store {
public:
    virtual ~Store() = default;

    // Sets `key` to `value` unless it exists, atomically across every client of the store: true
    // when this call set it, false when it was already there (its value unchanged).
    // `ttl_seconds` > 0 expires the entry then; 0 keeps it until deleted.
    virtual Result<bool> set_if_absent(std::string_view key, ByteView value, int64_t ttl_seconds) = 0;

    // Sets `key` to `value`, replacing any value; `ttl_seconds` as above.
    virtual Result<void> put(std::string_view key, ByteView value, int64_t ttl_seconds) = 0;

    // The value of `key`, or nullopt when it does not exist or has expired.
    virtual Result<std::optional<Bytes>> get(std::string_view key) = 0;

    // Sets `key` to `value` (nullopt: deletes it) only when its value is now `expected` (nullopt:
    // when it does not exist), atomically across every client of the store: true when this call
    // changed it, false when the value was another (nothing written). The entry has no expiry.
    virtual Result<bool> compare_and_set(std::string_view key, std::optional<ByteView> expected,
                                         std::optional<ByteView> value) = 0;

    // Whether the store answers now (for /readyz); Errc::Unavailable naming the cause if not.
    virtual Result<void> ping() = 0;

    // "memory" or "redis://host:port/db" (never a password), for logs and metrics.
    virtual std::string describe() const = 0;

    // For a store that lives in one process's memory, the time (seconds since the epoch) it was
    // made: it knows nothing written before then, so a broker with a nonce key that outlives the
    // process refuses nonces issued earlier (nonces.h). nullopt for a store that persists.
    virtual std::optional<int64_t> remembers_since() const { return std::nullopt; }
};

// The key of each entry kind; `id` is hex or another printable identifier.
namespace store_keys {
std::string nonce(ByteView nonce);
std::string cache(std::string_view object);  // a KDS cache key (kds/cache.h names)
std::string kds_miss(std::string_view object);
std::string release(ByteView report_id, std::string_view resource);
std::string volume(std::string_view name);   // a [[volume]] resource name
std::string recover(std::string_view name);  // the same
}  // namespace store_keys

// One process's store: a map with expiry times from `clock`. Expired entries are forgotten on
// the next write, so memory is bounded by what is live.
class MemoryStore final : public Store {
public:
    explicit MemoryStore(kds::Clock* clock = nullptr) : m_clock(clock), m_created(now()) {}

    Result<bool> set_if_absent(std::string_view key, ByteView value, int64_t ttl_seconds) override;
    Result<void> put(std::string_view key, ByteView value, int64_t ttl_seconds) override;
    Result<std::optional<Bytes>> get(std::string_view key) override;
    Result<bool> compare_and_set(std::string_view key, std::optional<ByteView> expected,
                                 std::optional<ByteView> value) override;
    Result<void> ping() override { return {}; }
    std::string describe() const override { return "memory"; }
    std::optional<int64_t> remembers_since() const override { return m_created; }

    size_t size() const;  // live and not yet pruned entries

private:
    struct Entry {
        Bytes value;
        int64_t expires_at;  // 0: never
    };
    int64_t now();
    void prune(int64_t now);  // with m_mutex held

    kds::Clock* m_clock;
    int64_t m_created;
    mutable std::mutex m_mutex;
    std::map<std::string, Entry, std::less<>> m_entries;
    std::multimap<int64_t, std::string> m_by_expiry;
};

}  // namespace cvm::broker
