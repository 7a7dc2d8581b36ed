// A minimal HTTP/1.1 server for the broker and for test fakes: plain TCP or TLS (net/tls.h), one
// request per connection (answers carry "Connection: close"), one thread per connection up to a
// limit.
//
// Requests are parsed by llhttp (net/http_parser.h) within ServerOptions::limits; bodies come
// with Content-Length or chunked. The server answers by itself, without calling the handler:
// 400 for a malformed request, 431 for oversized headers, 413 for a body over the limit (from
// Content-Length, before reading it), 408 when a client sends too slowly (per-read timeout and
// a per-request deadline, so a slow client holds only its own thread), 503 when all connection
// slots are busy. The handler's Content-Length, Connection and Transfer-Encoding headers are
// replaced by the server's own.
//
// With TLS the same answers go over TLS, except two that cannot: a connection beyond the limit
// is closed without a 503 (a handshake is the very work the limit bounds; the https client
// reports Errc::Unavailable), and a failed or timed-out handshake closes the connection without
// an answer. The handshake runs on the connection's thread, within the same I/O timeout and
// request deadline as reading the request. Nothing about failed connections is logged.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "base/file.h"
#include "net/http.h"
#include "net/tls.h"

namespace cvm::net {

struct ServerOptions {
    std::string address = "127.0.0.1";   // numeric IPv4 or IPv6 address to bind
    uint16_t port = 0;                   // 0: an ephemeral port, see HttpServer::port()
    int64_t io_timeout_ms = 5000;        // longest wait for the next bytes of a request
    int64_t request_timeout_ms = 15000;  // a whole request, from accept to its last byte
    size_t max_connections = 32;         // connections served at once
    HttpLimits limits;
    std::optional<TlsServerFiles> tls;  // set: https only, on this port
};

// Called on a connection thread, concurrently for concurrent requests.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
public:
    // Loads the TLS files if any (see TlsServerContext::create), binds and listens, then accepts on
    // a background thread. Errc::Config for a bad address or TLS file; Errc::Io when bind/listen
    // fail (errno saved).
    static Result<std::unique_ptr<HttpServer>> start(const ServerOptions& options, HttpHandler handler);

    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;
    ~HttpServer() { stop(); }

    uint16_t port() const { return m_port; }

    // Stops accepting (the port is closed), shuts down open connections and waits for their
    // threads, including handlers still running. Idempotent.
    void stop();

private:
    HttpServer(const ServerOptions& options, HttpHandler handler) : m_options(options), m_handler(std::move(handler)) {}
    void accept_loop();
    void serve(UniqueFd fd, UniqueFd control, std::string peer);

    ServerOptions m_options;
    HttpHandler m_handler;
    std::unique_ptr<TlsServerContext> m_tls;  // null for plain HTTP
    UniqueFd m_listen;
    UniqueFd m_wake_read, m_wake_write;  // a pipe that interrupts the accept loop's poll
    uint16_t m_port{0};
    std::thread m_acceptor;
    std::atomic<bool> m_stopping{false};

    std::mutex m_mutex;  // guards the connection set and count
    std::condition_variable m_idle;
    std::set<int> m_open_fds;  // a duplicate of each connection's socket, for stop() to shut down
    size_t m_active{0};
};

}  // namespace cvm::net
