// A real redis-server (Debian's, or valkey-server) run by a test on loopback: a free port, its
// own temporary directory, no persistence (--save '' --appendonly no) unless asked for, stopped
// and removed at destruction. For the Redis store's unit tests and the fleet e2e test.
//
// find_redis_server() looks for $REDIS_SERVER, then redis-server and valkey-server in PATH.
// Failures to start abort the process with a message: the tests cannot run without it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace cvm::test {

// The server binary, or nullopt when none is installed.
std::optional<std::string> find_redis_server();

// main() of a test program that needs redis-server: nullopt when it is there; otherwise the exit
// status to end with, after saying why: 77 (skipped) outside CI, 1 (failed) when CI=true, since
// scripts/setup installs it there.
std::optional<int> redis_server_missing(const char* program);

struct RedisServerOptions {
    std::optional<std::string> requirepass;  // --requirepass (the default user's password)
    std::vector<std::string> acl_users;      // each one "--user" line, e.g. "alice on >pw ~* +@all"
    struct Tls {
        std::string cert_pem, key_pem, ca_pem;
    };
    std::optional<Tls> tls;   // serve TLS only (--port 0 --tls-port P)
    bool persistent = false;  // an RDB file saved at stop() and loaded at start() (--save 3600 1)
};

class RedisServer {
public:
    // Starts on a free loopback port and waits until it accepts connections.
    explicit RedisServer(RedisServerOptions options = {});
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    uint16_t port() const { return m_port; }
    std::string url(int db = 0) const;  // "redis://127.0.0.1:P/db" (rediss:// with TLS)
    const std::string& dir() const { return m_dir; }

    void stop();   // SIGTERM and wait; the port is free afterwards
    void kill();   // SIGKILL and wait (a crash)
    void start();  // again, on the same port, with the same options; data is gone
    bool running() const { return m_pid > 0; }

private:
    void spawn();
    void wait_ready();
    void write_file(const std::string& name, const std::string& content);

    RedisServerOptions m_options;
    std::string m_binary;
    std::string m_dir;
    uint16_t m_port{0};
    pid_t m_pid{-1};
};

// A loopback port that was free a moment ago (bound to port 0, then closed).
uint16_t free_loopback_port();

}  // namespace cvm::test
