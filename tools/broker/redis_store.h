// The store that broker replicas share: Redis (or Valkey), reached through a bounded pool of
// RedisConnections (redis_connection.h: RESP via hiredis over lib/net's TCP and TLS).
//
//   set_if_absent  SET key value NX [EX ttl]   atomic in the server: one of any number of
//                                              concurrent callers, on any replica, gets true
//   put            SET key value [EX ttl]
//   get            GET key
//   compare_and_set  EVAL of a Lua script that GETs the key and SETs or DELs it only when the
//                  value is the expected one: scripts run atomically in the server (Redis's
//                  EVAL: "no other script or Redis command will be executed while a script is
//                  being executed"), so of concurrent callers on any replica one wins
//   ping           PING
//
// compare_and_set is not retried after a lost reply (it is not idempotent: the first attempt may
// have been applied); the caller sees Unavailable and the broker releases nothing.
//
// Pool: at most config.pool_size connections exist; a call takes an idle one or opens a new one,
// and waits at most timeout_ms for one to be returned when all are busy. A connection that fails
// (timeout, reset, protocol error) is dropped, and so is every idle one opened before that failure
// (they lead to the same server, which has likely restarted or gone): there is no reconnect loop,
// the next call simply connects again, so the store recovers on its own when the server returns.
// A call that fails on a connection taken idle from the pool is retried once on a fresh one: an
// idle connection may be stale for reasons the request did not cause. For set_if_absent that
// retry can answer false when the first attempt was applied but its reply was lost; the broker
// then refuses a nonce it could have accepted, never the other way round.
//
// Every failure is Errc::Unavailable naming the server and the cause; never the password.
// Values larger than max_value_bytes are refused by put() and set_if_absent() (Errc::Config:
// a caller's error) and by get() (Unavailable: the reply is not read past the limit).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "redis_connection.h"
#include "store.h"
#include "store_config.h"

namespace cvm::broker {

struct RedisStoreOptions {
    size_t max_value_bytes = 1 << 20;  // the largest value stored or read (KDS objects are < 64 KiB)
};

class RedisStore final : public Store {
public:
    // Checks the configuration (it copies the password into its own wiping storage); does not
    // connect. Errc::Config when pool_size or timeout_ms is 0.
    static Result<std::unique_ptr<RedisStore>> create(const StoreConfig& config, RedisStoreOptions options = {});

    Result<bool> set_if_absent(std::string_view key, ByteView value, int64_t ttl_seconds) override;
    Result<void> put(std::string_view key, ByteView value, int64_t ttl_seconds) override;
    Result<std::optional<Bytes>> get(std::string_view key) override;
    Result<bool> compare_and_set(std::string_view key, std::optional<ByteView> expected,
                                 std::optional<ByteView> value) override;
    Result<void> ping() override;
    std::string describe() const override { return m_config.url.to_string(); }

    // Connections open now, idle or in use (for tests and metrics).
    size_t open_connections() const;

private:
    RedisStore(StoreConfig config, RedisStoreOptions options);

    // A connection taken from the pool (or newly opened), returned to it on destruction unless
    // it broke. `reused` says it was idle in the pool, for the one retry.
    struct Lease;
    Result<Lease> acquire();
    void release(std::unique_ptr<RedisConnection> connection, uint64_t generation);

    // Runs one command with the retry rule above (`retry` false: never retried).
    Result<RedisReply> run(std::initializer_list<ByteView> argv, bool retry = true);
    Result<void> check_value(ByteView value) const;

    StoreConfig m_config;
    RedisStoreOptions m_options;
    mutable std::mutex m_mutex;
    std::condition_variable m_returned;
    std::vector<std::unique_ptr<RedisConnection>> m_idle;  // with m_mutex
    std::vector<uint64_t> m_idle_generation;               // parallel to m_idle
    size_t m_open{0};                                      // idle + leased
    uint64_t m_generation{0};                              // bumped by every failure
};

}  // namespace cvm::broker
