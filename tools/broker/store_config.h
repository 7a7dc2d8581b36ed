// The broker's [store] table: where its shared state lives (store.h), and the factory that opens
// it. Without a [store] table the broker keeps that state in memory (MemoryStore).
//
//   [store]
//   url = "redis://host:port/db"        or rediss:// for TLS; port 6379 and db 0 by default
//   username = "broker"                 optional, Redis 6 ACL user (AUTH username password)
//   password_file = "redis.pass"        optional; the whole file is the password (one trailing
//                                       newline dropped); read into wiping memory
//   ca_file = "redis-ca.pem"            rediss only: the CA bundle the server's certificate must
//                                       chain to (default /etc/ssl/certs/ca-certificates.crt)
//   server_name = "redis.internal"      rediss only: the name checked in the certificate and
//                                       sent as SNI (default: the URL's host)
//   timeout_ms = 1000                   per command, and per connect/handshake step
//   pool_size = 16                      connections kept at most (commands beyond wait for one)
//
// A password is never written in the URL (redis://:secret@host is refused): it would end up in
// process listings, logs and describe(). Errors are Errc::Config naming the key ("store.url"),
// the value found (never the password) and what is expected.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/secret.h"
#include "kds/clock.h"
#include "store.h"

namespace cvm::broker {

inline constexpr uint16_t REDIS_DEFAULT_PORT = 6379;

struct RedisUrl {
    bool tls = false;  // rediss://
    std::string host;  // IPv6 literals without brackets
    uint16_t port = REDIS_DEFAULT_PORT;
    int64_t db = 0;  // SELECT db; 0 is Redis's default

    // "redis://host:port/db" (brackets around IPv6), never a credential.
    std::string to_string() const;
};

// Accepts scheme (any case) "://" host [":" port] ["/" db]: a DNS name, a dotted IPv4 address or
// a bracketed IPv6 literal; port 1..65535; db 0..65535 in decimal. Refuses with Errc::Config
// user information, a query or fragment, other schemes, and any byte outside visible ASCII.
Result<RedisUrl> parse_redis_url(std::string_view text);

struct StoreConfig {
    RedisUrl url;
    std::optional<std::string> username;  // AUTH username password (needs a password)
    std::optional<SecretBytes> password;  // AUTH [username] password when set
    std::string ca_file;                  // rediss: CA bundle (PEM)
    std::string server_name;              // rediss: certificate name and SNI
    int64_t timeout_ms = 1000;
    size_t pool_size = 16;
};

// The store the broker uses: a RedisStore for `config`, or a MemoryStore on `clock` when
// `config` is null. Nothing is connected yet: a Redis store that is down at startup makes
// requests fail with Errc::Unavailable until it answers, as it would later.
Result<std::unique_ptr<Store>> open_store(const StoreConfig* config, kds::Clock* clock);

}  // namespace cvm::broker
