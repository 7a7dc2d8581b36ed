// The [store] table and Redis URLs (store_config.h); RedisStore itself is tested against a real
// server in test_redis_store.cc.
#include <doctest.h>

#include <string>

#include "broker_fixture.h"
#include "config.h"
#include "store_config.h"

using namespace cvm;
using namespace cvm::broker;

namespace {

std::string url_error(const std::string& text)
{
    auto u = parse_redis_url(text);
    REQUIRE_FALSE(u.ok());
    CHECK(u.error().code() == Errc::Config);
    return std::string(u.error().message());
}

Result<BrokerConfig> with_store(const test::BrokerFiles& files, const std::string& table)
{
    return parse_broker_config(test::broker_config_text("", "[store]\n" + table), files.dir());
}

std::string store_error(const test::BrokerFiles& files, const std::string& table, Errc code = Errc::Config)
{
    auto c = with_store(files, table);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().code() == code);
    return std::string(c.error().message());
}

bool has(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("redis URL: accepted forms and defaults")
{
    auto u = parse_redis_url("redis://127.0.0.1:6380/2").value();
    CHECK_FALSE(u.tls);
    CHECK(u.host == "127.0.0.1");
    CHECK(u.port == 6380);
    CHECK(u.db == 2);
    CHECK(u.to_string() == "redis://127.0.0.1:6380/2");

    u = parse_redis_url("REDISS://redis.internal").value();
    CHECK(u.tls);
    CHECK(u.port == REDIS_DEFAULT_PORT);
    CHECK(u.db == 0);
    CHECK(u.to_string() == "rediss://redis.internal:6379/0");

    u = parse_redis_url("redis://[::1]:7000/").value();
    CHECK(u.host == "::1");
    CHECK(u.db == 0);
    CHECK(u.to_string() == "redis://[::1]:7000/0");
    CHECK(parse_redis_url("redis://h/65535").value().db == 65535);
    CHECK(parse_redis_url("redis://h:65535").value().port == 65535);
}

TEST_CASE("redis URL: refusals name what is wrong")
{
    CHECK(has(url_error("http://h:6379"), "expected redis://"));
    CHECK(has(url_error("h:6379"), "expected redis://"));
    CHECK(has(url_error("redis://:secret@h"), "user information"));
    CHECK(has(url_error("redis://user:secret@h"), "store.password_file"));
    CHECK_FALSE(has(url_error("redis://user:secret@h"), "secret"));  // never echoed
    CHECK_FALSE(has(url_error("redis://us er:secret@h"), "secret"));
    CHECK(has(url_error("redis://"), "no host"));
    CHECK(has(url_error("redis://:6379"), "no host"));
    CHECK(has(url_error("redis://h:0"), "port"));
    CHECK(has(url_error("redis://h:65536"), "port"));
    CHECK(has(url_error("redis://h:"), "port"));
    CHECK(has(url_error("redis://h:63a9"), "port"));
    CHECK(has(url_error("redis://h/65536"), "database"));
    CHECK(has(url_error("redis://h/-1"), "database"));
    CHECK(has(url_error("redis://h/1/2"), "database"));
    CHECK(has(url_error("redis://h/1?db=2"), "query"));
    CHECK(has(url_error("redis://h#x"), "fragment"));
    CHECK(has(url_error("redis://h st"), "space"));
    CHECK(has(url_error("redis://h\x01"), "control"));
    CHECK(has(url_error("redis://h\xc3\xa9"), "non-ASCII"));
    CHECK(has(url_error("redis://[::1"), "IPv6"));
    CHECK(has(url_error("redis://[]:1"), "IPv6"));
    CHECK(has(url_error("redis://[::1]x"), "IPv6"));
    CHECK(has(url_error("redis://[::g]"), "IPv6"));
    CHECK(has(url_error("redis://h!/0"), "host"));
    CHECK(has(url_error("redis://" + std::string(1100, 'a')), "longer than 1024"));
}

TEST_CASE("broker config: [store] with every key")
{
    test::BrokerFiles files;
    files.write("redis.pass", "pa55-word\n");
    files.write("redis-ca.pem", "-----BEGIN CERTIFICATE-----\n");
    auto c = with_store(files, "url = \"rediss://10.0.0.5:6390/4\"\nusername = \"broker\"\n"
                               "password_file = \"redis.pass\"\nca_file = \"redis-ca.pem\"\n"
                               "server_name = \"redis.internal\"\ntimeout_ms = 250\npool_size = 8\n");
    REQUIRE(c.ok());
    REQUIRE(c->store);
    const StoreConfig& s = *c->store;
    CHECK(s.url.to_string() == "rediss://10.0.0.5:6390/4");
    CHECK(s.username == std::optional<std::string>("broker"));
    REQUIRE(s.password);
    CHECK(std::string(s.password->expose().begin(), s.password->expose().end()) == "pa55-word");  // newline dropped
    CHECK(s.ca_file == files.dir() + "/redis-ca.pem");
    CHECK(s.server_name == "redis.internal");
    CHECK(s.timeout_ms == 250);
    CHECK(s.pool_size == 8);
}

TEST_CASE("broker config: [store] defaults; none means memory")
{
    test::BrokerFiles files;
    auto none = parse_broker_config(test::broker_config_text(), files.dir());
    REQUIRE(none.ok());
    CHECK_FALSE(none->store);

    auto plain = with_store(files, "url = \"redis://127.0.0.1\"\n");
    REQUIRE(plain.ok());
    CHECK(plain->store->url.to_string() == "redis://127.0.0.1:6379/0");
    CHECK_FALSE(plain->store->password);
    CHECK(plain->store->ca_file.empty());
    CHECK(plain->store->timeout_ms == 1000);
    CHECK(plain->store->pool_size == 16);

    auto tls = with_store(files, "url = \"rediss://redis.internal\"\n");
    REQUIRE(tls.ok());
    CHECK(tls->store->ca_file == "/etc/ssl/certs/ca-certificates.crt");
    CHECK(tls->store->server_name == "redis.internal");

    files.write("crlf.pass", "pw\r\n");
    auto crlf = with_store(files, "url = \"redis://h\"\npassword_file = \"crlf.pass\"\n");
    REQUIRE(crlf.ok());
    CHECK(crlf->store->password->size() == 2);
}

TEST_CASE("broker config: [store] refusals")
{
    test::BrokerFiles files;
    files.write("redis.pass", "pa55-word");
    files.write("empty.pass", "\n");
    files.write("long.pass", std::string(1025, 'p'));
    CHECK(has(store_error(files, ""), "store.url"));
    CHECK(has(store_error(files, "url = \"redis://h\"\nport = 1\n"), "store.port"));
    CHECK(has(store_error(files, "url = 6379\n"), "store.url"));
    CHECK(has(store_error(files, "url = \"http://h\"\n"), "store.url"));
    CHECK(has(store_error(files, "url = \"redis://h\"\ntimeout_ms = 0\n"), "store.timeout_ms"));
    CHECK(has(store_error(files, "url = \"redis://h\"\ntimeout_ms = 60001\n"), "store.timeout_ms"));
    CHECK(has(store_error(files, "url = \"redis://h\"\npool_size = 0\n"), "store.pool_size"));
    CHECK(has(store_error(files, "url = \"redis://h\"\npool_size = 1025\n"), "store.pool_size"));
    CHECK(has(store_error(files, "url = \"redis://h\"\npool_size = \"8\"\n"), "store.pool_size"));
    CHECK(has(store_error(files, "url = \"redis://h\"\nusername = \"broker\"\n"), "store.password_file"));
    CHECK(has(store_error(files, "url = \"redis://h\"\nusername = \"a b\"\npassword_file = \"redis.pass\"\n"),
              "store.username"));
    CHECK(has(store_error(files, "url = \"redis://h\"\nusername = \"\"\npassword_file = \"redis.pass\"\n"),
              "store.username"));
    CHECK(has(store_error(files, "url = \"redis://h\"\npassword_file = \"missing.pass\"\n", Errc::Io),
              "store.password_file"));
    CHECK(has(store_error(files, "url = \"redis://h\"\npassword_file = \"empty.pass\"\n"), "store.password_file"));
    CHECK(has(store_error(files, "url = \"redis://h\"\npassword_file = \"long.pass\"\n"), "store.password_file"));
    CHECK(has(store_error(files, "url = \"redis://h\"\nca_file = \"ca.pem\"\n"), "not rediss"));
    CHECK(has(store_error(files, "url = \"redis://h\"\nserver_name = \"h\"\n"), "not rediss"));
    CHECK(has(store_error(files, "url = \"rediss://h\"\nserver_name = \"h/x\"\n"), "store.server_name"));
    // The password never shows, whatever fails after it was read.
    CHECK_FALSE(
        has(store_error(files, "url = \"redis://h\"\npassword_file = \"redis.pass\"\npool_size = 0\n"), "pa55"));
    auto not_table = parse_broker_config(test::broker_config_text("", "store = \"redis://h\"\n"), files.dir());
    REQUIRE_FALSE(not_table.ok());
    CHECK(has(std::string(not_table.error().message()), "store"));
}
