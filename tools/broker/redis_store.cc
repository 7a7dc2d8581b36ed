#include "redis_store.h"

#include <algorithm>
#include <chrono>

namespace cvm::broker {
namespace {

// The bytes of a reply around its value: "$<length>\r\n" ... "\r\n".
constexpr size_t REPLY_OVERHEAD = 32;

ByteView to_bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool is_ok(const RedisReply& r)
{
    return r.type == RedisReply::Type::Status &&
           std::string_view(reinterpret_cast<const char*>(r.text.data()), r.text.size()) == "OK";
}

}  // namespace

struct RedisStore::Lease {
    std::unique_ptr<RedisConnection> connection;
    uint64_t generation;
    bool reused;
};

RedisStore::RedisStore(StoreConfig config, RedisStoreOptions options) : m_config(std::move(config)), m_options(options)
{
}

Result<std::unique_ptr<RedisStore>> RedisStore::create(const StoreConfig& config, RedisStoreOptions options)
{
    if (config.pool_size == 0 || config.timeout_ms <= 0)
        return Error::make(Errc::Config, "store: pool_size %zu and timeout_ms %lld, expected both above 0",
                           config.pool_size, static_cast<long long>(config.timeout_ms));
    if (config.url.host.empty())
        return Error::make(Errc::Config, "store: the URL has no host");
    StoreConfig own;
    own.url = config.url;
    own.username = config.username;
    if (config.password)
        own.password = SecretBytes::copy_of(config.password->expose());
    own.ca_file = config.ca_file;
    own.server_name = config.server_name.empty() ? config.url.host : config.server_name;
    own.timeout_ms = config.timeout_ms;
    own.pool_size = config.pool_size;
    return std::unique_ptr<RedisStore>(new RedisStore(std::move(own), options));
}

size_t RedisStore::open_connections() const
{
    std::lock_guard lock(m_mutex);
    return m_open;
}

Result<RedisStore::Lease> RedisStore::acquire()
{
    std::unique_lock lock(m_mutex);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(m_config.timeout_ms);
    for (;;) {
        if (!m_idle.empty()) {
            Lease lease{std::move(m_idle.back()), m_idle_generation.back(), true};
            m_idle.pop_back();
            m_idle_generation.pop_back();
            return lease;
        }
        if (m_open < m_config.pool_size) {
            ++m_open;
            uint64_t generation = m_generation;
            lock.unlock();
            auto connection = RedisConnection::connect(m_config, m_options.max_value_bytes + REPLY_OVERHEAD);
            if (!connection.ok()) {
                lock.lock();
                --m_open;
                m_returned.notify_one();
                return connection.release_error();
            }
            return Lease{connection.release_value(), generation, false};
        }
        if (m_returned.wait_until(lock, until) == std::cv_status::timeout && m_idle.empty() &&
            m_open >= m_config.pool_size)
            return Error::make(Errc::Unavailable, "store %s: all %zu connections stayed busy for %lld ms",
                               describe().c_str(), m_config.pool_size, static_cast<long long>(m_config.timeout_ms));
    }
}

void RedisStore::release(std::unique_ptr<RedisConnection> connection, uint64_t generation)
{
    std::unique_ptr<RedisConnection> drop;  // closed outside the lock
    std::lock_guard lock(m_mutex);
    if (connection->broken()) {
        // Whatever broke this one likely broke the idle ones opened before it: forget them all.
        ++m_generation;
        --m_open;
        for (size_t i = m_idle.size(); i-- > 0;) {
            if (m_idle_generation[i] < m_generation) {
                m_idle.erase(m_idle.begin() + static_cast<std::ptrdiff_t>(i));
                m_idle_generation.erase(m_idle_generation.begin() + static_cast<std::ptrdiff_t>(i));
                --m_open;
            }
        }
        drop = std::move(connection);
    } else if (generation < m_generation) {
        --m_open;
        drop = std::move(connection);
    } else {
        m_idle.push_back(std::move(connection));
        m_idle_generation.push_back(generation);
    }
    m_returned.notify_all();
}

Result<RedisReply> RedisStore::run(std::initializer_list<ByteView> argv, bool retry)
{
    for (int attempt = 0;; ++attempt) {
        Lease lease = TRY(acquire());
        auto reply = lease.connection->command(argv);
        bool broken = lease.connection->broken();
        release(std::move(lease.connection), lease.generation);
        if (reply.ok() || !broken || !lease.reused || attempt == 1 || !retry)
            return reply;
    }
}

Result<void> RedisStore::check_value(ByteView value) const
{
    if (value.size() > m_options.max_value_bytes)
        return Error::make(Errc::Config, "store %s: a value of %zu bytes, expected at most %zu", describe().c_str(),
                           value.size(), m_options.max_value_bytes);
    return {};
}

Result<bool> RedisStore::set_if_absent(std::string_view key, ByteView value, int64_t ttl_seconds)
{
    TRY(check_value(value));
    std::string ttl = std::to_string(ttl_seconds);
    auto reply = ttl_seconds > 0
                     ? TRY(run({to_bytes("SET"), to_bytes(key), value, to_bytes("NX"), to_bytes("EX"), to_bytes(ttl)}))
                     : TRY(run({to_bytes("SET"), to_bytes(key), value, to_bytes("NX")}));
    if (is_ok(reply))
        return true;
    if (reply.type == RedisReply::Type::Nil)
        return false;
    return Error::make(Errc::Unavailable, "store %s: SET NX answered neither OK nor nil", describe().c_str());
}

Result<void> RedisStore::put(std::string_view key, ByteView value, int64_t ttl_seconds)
{
    TRY(check_value(value));
    std::string ttl = std::to_string(ttl_seconds);
    auto reply = ttl_seconds > 0 ? TRY(run({to_bytes("SET"), to_bytes(key), value, to_bytes("EX"), to_bytes(ttl)}))
                                 : TRY(run({to_bytes("SET"), to_bytes(key), value}));
    if (!is_ok(reply))
        return Error::make(Errc::Unavailable, "store %s: SET answered other than OK", describe().c_str());
    return {};
}

Result<std::optional<Bytes>> RedisStore::get(std::string_view key)
{
    RedisReply reply = TRY(run({to_bytes("GET"), to_bytes(key)}));
    if (reply.type == RedisReply::Type::Nil)
        return std::optional<Bytes>();
    if (reply.type != RedisReply::Type::String)
        return Error::make(Errc::Unavailable, "store %s: GET answered neither a string nor nil", describe().c_str());
    if (reply.text.size() > m_options.max_value_bytes)
        return Error::make(Errc::Unavailable, "store %s: GET answered %zu bytes, expected at most %zu",
                           describe().c_str(), reply.text.size(), m_options.max_value_bytes);
    return std::optional<Bytes>(std::move(reply.text));
}

Result<bool> RedisStore::compare_and_set(std::string_view key, std::optional<ByteView> expected,
                                         std::optional<ByteView> value)
{
    if (value)
        TRY(check_value(*value));
    // ARGV: has-expected, expected, has-value, value. GET answers false (not nil) in Lua for a
    // missing key, which equals no string.
    static constexpr std::string_view SCRIPT =
        "local cur = redis.call('GET', KEYS[1]) "
        "if ARGV[1] == '0' then if cur then return 0 end elseif cur ~= ARGV[2] then return 0 end "
        "if ARGV[3] == '0' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[4]) end "
        "return 1";
    RedisReply reply =
        TRY(run({to_bytes("EVAL"), to_bytes(SCRIPT), to_bytes("1"), to_bytes(key), to_bytes(expected ? "1" : "0"),
                 expected ? *expected : ByteView(), to_bytes(value ? "1" : "0"), value ? *value : ByteView()},
                false));
    if (reply.type != RedisReply::Type::Integer || (reply.integer != 0 && reply.integer != 1))
        return Error::make(Errc::Unavailable, "store %s: EVAL (compare and set) answered neither 0 nor 1",
                           describe().c_str());
    return reply.integer == 1;
}

Result<void> RedisStore::ping()
{
    RedisReply reply = TRY(run({to_bytes("PING")}));
    if (reply.type != RedisReply::Type::Status)
        return Error::make(Errc::Unavailable, "store %s: PING answered other than a status", describe().c_str());
    return {};
}

}  // namespace cvm::broker
