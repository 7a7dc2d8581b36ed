// RedisStore against a real redis-server on loopback (redis_server.h), and against raw peers
// that misbehave (fakes/raw_server.h).
#include <doctest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "heartbeats.h"
#include "raw_server.h"
#include "redis_server.h"
#include "redis_store.h"
#include "store_contract.h"
#include "test_pki.h"

using namespace cvm;
using namespace cvm::broker;
using cvm::test::RedisServer;
using cvm::test::RedisServerOptions;

namespace {

ByteView b(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string str(const Bytes& bytes)
{
    return {bytes.begin(), bytes.end()};
}

std::string msg(const Error& e)
{
    return std::string(e.message());
}

StoreConfig config_for(const std::string& url, int64_t timeout_ms = 1000, size_t pool = 4)
{
    StoreConfig c;
    auto parsed = parse_redis_url(url);
    REQUIRE(parsed.ok());
    c.url = parsed.value();
    c.server_name = c.url.host;
    c.timeout_ms = timeout_ms;
    c.pool_size = pool;
    return c;
}

std::unique_ptr<RedisStore> open(const StoreConfig& c, RedisStoreOptions o = {})
{
    auto s = RedisStore::create(c, o);
    REQUIRE(s.ok());
    return s.release_value();
}

SecretBytes secret(std::string_view s)
{
    return SecretBytes::copy_of(b(s));
}

int64_t ms_since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

std::string write_temp(const std::string& dir, const std::string& name, const std::string& content)
{
    std::string path = dir + "/" + name;
    std::ofstream(path) << content;
    return path;
}

}  // namespace

TEST_CASE("redis store: set_if_absent, put, get, ping and describe")
{
    RedisServer server;
    auto store = open(config_for(server.url()));
    CHECK(store->describe() == server.url());
    REQUIRE(store->ping().ok());
    CHECK(store->set_if_absent("k", b("first"), 0).value());
    CHECK_FALSE(store->set_if_absent("k", b("second"), 0).value());
    CHECK(str(*store->get("k").value()) == "first");
    REQUIRE(store->put("k", b("third"), 0).ok());
    CHECK(str(*store->get("k").value()) == "third");
    CHECK_FALSE(store->get("missing").value().has_value());
    // Binary values and keys survive RESP's length-prefixed strings.
    std::string binary("\0\r\n$-1\r\n\xff", 9);
    REQUIRE(store->put("bin\r\nkey", b(binary), 0).ok());
    CHECK(str(*store->get("bin\r\nkey").value()) == binary);
    CHECK(store->set_if_absent("empty", b(""), 0).value());
    CHECK(store->get("empty").value()->empty());
}

TEST_CASE("redis store: compare_and_set, atomic across replicas")
{
    RedisServer server;
    auto store = open(config_for(server.url()));
    cvm::test::check_compare_and_set(*store);
    // Binary keys and values go through the script as arguments, never as script text.
    std::string binary("\0'\r\n]]end", 10);
    CHECK(store->compare_and_set(binary, std::nullopt, b(binary)).value());
    CHECK(store->compare_and_set(binary, b(binary), b("x")).value());
    CHECK(str(*store->get(binary).value()) == "x");
    // Two replicas, three threads each, advancing one counter: no advance lost or doubled.
    auto replica = open(config_for(server.url(), 2000, 4));
    cvm::test::check_concurrent_advances({store.get(), replica.get()}, 3);
}

TEST_CASE("redis store: set_if_absent is atomic across threads and replicas")
{
    RedisServer server;
    auto replica_a = open(config_for(server.url(), 2000, 4));
    auto replica_b = open(config_for(server.url(), 2000, 3));
    constexpr int THREADS = 16;
    constexpr int KEYS = 300;
    std::vector<std::atomic<int>> wins(KEYS);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < THREADS; ++t) {
        threads.emplace_back([&, t] {
            RedisStore& store = t % 2 ? *replica_a : *replica_b;
            for (int k = 0; k < KEYS; ++k) {
                auto r = store.set_if_absent("nonce:" + std::to_string(k), b(std::to_string(t)), 60);
                if (!r.ok())
                    ++failures;
                else if (r.value())
                    ++wins[k];
            }
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(failures.load() == 0);
    int exactly_once = 0;
    for (auto& w : wins)
        exactly_once += w.load() == 1;
    CHECK(exactly_once == KEYS);
    CHECK(replica_a->open_connections() <= 4);
    CHECK(replica_b->open_connections() <= 3);
}

TEST_CASE("redis store: entries expire after their TTL; ttl 0 keeps them")
{
    RedisServer server;
    auto store = open(config_for(server.url()));
    REQUIRE(store->set_if_absent("short", b("v"), 1).value());
    REQUIRE(store->put("short-put", b("v"), 1).ok());
    REQUIRE(store->set_if_absent("forever", b("v"), 0).value());
    CHECK_FALSE(store->set_if_absent("short", b("w"), 1).value());
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    CHECK_FALSE(store->get("short").value().has_value());
    CHECK_FALSE(store->get("short-put").value().has_value());
    CHECK(store->get("forever").value().has_value());
    CHECK(store->set_if_absent("short", b("w"), 1).value());
}

TEST_CASE("redis store: AUTH with requirepass and ACL users; the password never appears in an error")
{
    RedisServerOptions options;
    options.requirepass = "right-pa55word";
    options.acl_users = {"alice on >alice-pa55word ~* +@all"};
    RedisServer server(options);

    auto with = [&](std::optional<std::string> user, std::optional<std::string> password) {
        StoreConfig c = config_for(server.url());
        c.username = user;
        if (password)
            c.password = secret(*password);
        return open(c);
    };
    CHECK(with(std::nullopt, "right-pa55word")->ping().ok());
    CHECK(with("alice", "alice-pa55word")->ping().ok());

    auto wrong = with(std::nullopt, "wrong-pa55word")->ping();
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.error().code() == Errc::Unavailable);
    CHECK(msg(wrong.error()).find("WRONGPASS") != std::string::npos);
    CHECK(msg(wrong.error()).find("AUTH") != std::string::npos);
    CHECK(msg(wrong.error()).find("pa55word") == std::string::npos);

    auto wrong_user = with("alice", "right-pa55word")->ping();
    REQUIRE_FALSE(wrong_user.ok());
    CHECK(msg(wrong_user.error()).find("WRONGPASS") != std::string::npos);
    CHECK(msg(wrong_user.error()).find("pa55word") == std::string::npos);

    auto missing = with(std::nullopt, std::nullopt)->set_if_absent("k", b("v"), 0);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == Errc::Unavailable);
    CHECK(msg(missing.error()).find("NOAUTH") != std::string::npos);
}

TEST_CASE("redis store: SELECT db keeps databases apart; an out-of-range db is named")
{
    RedisServer server;
    auto db0 = open(config_for(server.url(0)));
    auto db3 = open(config_for(server.url(3)));
    auto db3_again = open(config_for(server.url(3)));
    CHECK(db3->describe() == server.url(3));
    REQUIRE(db3->put("k", b("in db 3"), 0).ok());
    CHECK_FALSE(db0->get("k").value().has_value());
    CHECK(str(*db3_again->get("k").value()) == "in db 3");

    auto far = open(config_for(server.url(99)))->ping();  // redis.conf: databases 16
    REQUIRE_FALSE(far.ok());
    CHECK(far.error().code() == Errc::Unavailable);
    CHECK(msg(far.error()).find("SELECT 99") != std::string::npos);
    CHECK(msg(far.error()).find("out of range") != std::string::npos);
}

TEST_CASE("redis store: rediss:// verifies the server's certificate and name")
{
    fakes::TestPki pki;
    fakes::PemIdentity id = pki.issue("redis.test", "127.0.0.1");
    RedisServerOptions options;
    options.tls = RedisServerOptions::Tls{id.cert, id.key, pki.ca_pem()};
    RedisServer server(options);
    std::string ca = write_temp(server.dir(), "client-ca.pem", pki.ca_pem());

    StoreConfig c = config_for(server.url());
    REQUIRE(c.url.tls);
    c.ca_file = ca;
    auto store = open(c);
    REQUIRE(store->put("k", b("over TLS"), 0).ok());
    CHECK(str(*store->get("k").value()) == "over TLS");

    SUBCASE("another CA")
    {
        fakes::TestPki other;
        c.ca_file = write_temp(server.dir(), "other-ca.pem", other.ca_pem());
        auto r = open(c)->ping();
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Unavailable);
        CHECK(msg(r.error()).find("certificate") != std::string::npos);
    }
    SUBCASE("another name")
    {
        c.server_name = "not-redis.test";
        auto r = open(c)->ping();
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Unavailable);
    }
    SUBCASE("plain RESP to the TLS port")
    {
        c.url.tls = false;
        c.timeout_ms = 300;
        auto r = open(c)->ping();
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Unavailable);
    }
}

TEST_CASE("redis store: a stopped server is Unavailable within the timeout; a restarted one is used again")
{
    RedisServer server;
    auto store = open(config_for(server.url(), 300, 4));
    // Four connections idle in the pool.
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            for (int j = 0; j < 50; ++j)
                REQUIRE(store->put("k", b("v"), 0).ok());
        });
    for (auto& t : threads)
        t.join();
    CHECK(store->open_connections() >= 1);

    server.stop();
    auto t0 = std::chrono::steady_clock::now();
    auto down = store->set_if_absent("n", b("v"), 60);
    int64_t elapsed = ms_since(t0);
    REQUIRE_FALSE(down.ok());
    CHECK(down.error().code() == Errc::Unavailable);
    CHECK(msg(down.error()).find(server.url()) != std::string::npos);
    CHECK(elapsed < 2 * 300 + 200);
    CHECK_FALSE(store->ping().ok());

    server.start();
    CHECK(store->ping().ok());
    CHECK(store->set_if_absent("n", b("v"), 60).value());

    // A crash and restart between two calls: the idle connections are stale, the next call
    // still succeeds (one retry on a fresh connection).
    server.kill();
    server.start();
    CHECK(store->set_if_absent("n", b("v"), 60).value());  // the data went with the old process
}

TEST_CASE("redis store: a silent server times out per command")
{
    auto silent = fakes::RawServer::start("", fakes::RawServer::Mode::Silent);
    auto store = open(config_for("redis://127.0.0.1:" + std::to_string(silent->port()), 250, 2));
    auto t0 = std::chrono::steady_clock::now();
    auto r = store->get("k");
    int64_t elapsed = ms_since(t0);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);
    CHECK(elapsed >= 240);
    CHECK(elapsed < 1000);
    CHECK(store->open_connections() == 0);  // the timed-out connection was dropped
}

TEST_CASE("redis store: replies are bounded and checked")
{
    RedisServer server;
    auto big = open(config_for(server.url()), RedisStoreOptions{1 << 20});
    auto small = open(config_for(server.url()), RedisStoreOptions{1024});
    REQUIRE(big->put("large", b(std::string(4096, 'x')), 0).ok());
    REQUIRE(big->put("fits", b(std::string(1024, 'y')), 0).ok());

    auto r = small->get("large");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);
    CHECK(msg(r.error()).find("larger than") != std::string::npos);
    CHECK(small->get("fits").value()->size() == 1024);  // recovered on a new connection

    auto too_big = small->put("k", b(std::string(1025, 'z')), 0);
    REQUIRE_FALSE(too_big.ok());
    CHECK(too_big.error().code() == Errc::Config);
    REQUIRE_FALSE(small->set_if_absent("k", b(std::string(1025, 'z')), 0).ok());
}

TEST_CASE("redis store: malformed and unexpected replies are Unavailable naming the cause")
{
    struct Case {
        const char* reply;
        const char* expect;
    };
    const std::string huge = "$100000000\r\n" + std::string(64 * 1024, 'x');
    const Case cases[] = {
        {"-ERR something broke\r\n", "ERR something broke"},
        {"-READONLY You can't write against a read only replica.\r\n", "READONLY"},
        {"!not resp\r\n", "protocol error"},
        {"*2\r\n$1\r\na\r\n$1\r\nb\r\n", "protocol error"},  // arrays of more than one element
        {"+OK\r\n", "neither a string nor nil"},
        {":1\r\n", "neither a string nor nil"},
        {"$3\r\nab", "timed out"},  // truncated, then silent
        {huge.c_str(), "larger than"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.reply);
        auto peer = fakes::RawServer::start(c.reply, fakes::RawServer::Mode::Greet);
        auto store =
            open(config_for("redis://127.0.0.1:" + std::to_string(peer->port()), 500, 1), RedisStoreOptions{16 * 1024});
        auto r = store->get("k");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Unavailable);
        CHECK(msg(r.error()).find(c.expect) != std::string::npos);
    }
}

TEST_CASE("open_store: memory without [store], Redis with it (not connected yet)")
{
    auto memory = open_store(nullptr, nullptr);
    REQUIRE(memory.ok());
    CHECK(memory.value()->describe() == "memory");
    StoreConfig c = config_for("redis://127.0.0.1:1/2");
    c.password = secret("hunter2-pass");
    auto redis = open_store(&c, nullptr);
    REQUIRE(redis.ok());
    CHECK(redis.value()->describe() == "redis://127.0.0.1:1/2");
    auto down = redis.value()->ping();
    REQUIRE_FALSE(down.ok());
    CHECK(down.error().code() == Errc::Unavailable);
    CHECK(msg(down.error()).find("hunter2") == std::string::npos);
}

TEST_CASE("redis store: two replicas' heartbeat registries share last-seen and report a stale VM once")
{
    RedisServer server;
    auto store_a = open(config_for(server.url()));
    auto store_b = open(config_for(server.url()));
    cvm::broker::HeartbeatRegistry a(*store_a, {60, 100});
    cvm::broker::HeartbeatRegistry b(*store_b, {60, 100});
    cvm::broker::VmRecord vm;
    vm.report_id = std::string(64, 'e');
    vm.measurement = std::string(96, 'a');
    vm.interval = 100;
    vm.last_seen = 1'800'000'000;
    REQUIRE(a.accepted(vm).ok());
    vm.last_seen += 150;  // the next heartbeat went to replica b
    REQUIRE(b.accepted(vm).ok());
    CHECK(a.scan(1'800'000'300).empty());  // a reads b's heartbeat from Redis
    CHECK(a.find(vm.report_id)->last_seen == 1'800'000'150);
    size_t stale = a.scan(1'800'000'411).size() + b.scan(1'800'000'411).size();
    CHECK(stale == 1);
    CHECK(a.find(vm.report_id)->stale);
    CHECK(b.find(vm.report_id)->stale);
}
