// A minimal HTTP/1.1 server for the broker and for test fakes: plain TCP or TLS (net/tls.h), one
// request per connection (answers carry "Connection: close"), one thread per connection up to a
// limit.
//
// Requests are parsed by llhttp (net/http_parser.h) within ServerOptions::limits; bodies come
// with Content-Length or chunked. The server answers by itself, without calling the handler:
// 400 for a malformed request, 431 for oversized headers, 413 for a body over the limit (from
// Content-Length, before reading it), 408 when a client sends too slowly, 503 when all
// connection slots, or all of its peer's, are busy. The handler's Content-Length, Connection and
// Transfer-Encoding headers are replaced by the server's own.
//
// Hard to starve: a slow client holds only its own thread, and only briefly. Every connection
// is bounded by
//   - max_connections_per_peer: connections one peer may hold while they are still sending their
//     request (TLS handshake, headers, body), by IPv4 address or IPv6 /64 (which one host
//     usually owns whole); the excess is refused at accept, before any byte is read or any
//     handshake computed. A request read completely no longer counts (its handler runs within
//     max_connections only), so a fleet of fast agents behind one address is not capped: only
//     connections that are slow to send are;
//   - header_timeout_ms: from accept to the end of the header section, TLS handshake included;
//   - min_body_rate: after the headers, body byte k must have arrived by
//     body_grace_ms + k * 1000 / min_body_rate ms (a client trickling its body is cut off with
//     408 as soon as it falls behind, not at the end of the request deadline);
//   - io_timeout_ms without progress, and request_timeout_ms from accept to the last byte.
// The defaults: a peer holds at most a quarter of the slots (8 of 32) with requests in flight,
// none of them longer than 5 s unless it sends its body at 1 KiB/s or more; so 70 slow
// connections from one address leave 24 of 32 slots to everyone else. Many agents behind one
// NAT address whose requests arrive at the same moment (a TLS handshake takes milliseconds of
// CPU) can meet the cap: a refused agent retries on 503, or raise the cap.
//
// With TLS the same answers go over TLS, except two that cannot: a connection beyond a limit is
// closed without a 503 (a handshake is the very work the limit bounds; the https client reports
// Errc::Unavailable), and a failed or timed-out handshake closes the connection without an
// answer. The handshake runs on the connection's thread, within the header deadline. The answer
// is written within io_timeout_ms of the handler's return. Nothing about failed connections is
// logged.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "base/file.h"
#include "net/http.h"
#include "net/tls.h"
#include "net/unix_socket.h"

namespace cvm::net {

struct ServerOptions {
    std::string address = "127.0.0.1";   // numeric IPv4 or IPv6 address to bind
    uint16_t port = 0;                   // 0: an ephemeral port, see HttpServer::port()
    int64_t io_timeout_ms = 5000;        // longest wait for the next bytes of a request
    int64_t header_timeout_ms = 5000;    // accept to the end of the headers, TLS handshake included
    int64_t request_timeout_ms = 15000;  // a whole request, from accept to its last byte
    size_t min_body_rate = 1024;         // body bytes per second, after body_grace_ms; 0: no floor
    int64_t body_grace_ms = 2000;        // allowance before the rate floor applies
    size_t max_connections = 32;         // connections served at once
    // Of those, how many one IPv4 address or IPv6 /64 may hold while still sending its request
    // (handshake, headers, body); nullopt: a quarter of max_connections (at least 1); 0: no cap.
    std::optional<size_t> max_connections_per_peer;
    HttpLimits limits;
    std::optional<TlsServerFiles> tls;  // set: https only, on this port
    // Instead of `tls`: https with this context (e.g. TlsServerContext::create_selecting), which
    // the server shares and keeps while it runs.
    std::shared_ptr<const TlsServerContext> tls_context;
    // With tls: whether clients are asked for a certificate (tls.h), which the handler then finds
    // in HttpRequest::peer_certificate.
    ClientCertificates client_certificates = ClientCertificates::NotRequested;
    // Set: listen on this Unix socket instead of address/port (no TLS). All its clients count as
    // one peer for max_connections_per_peer.
    std::optional<UnixSocketOptions> unix_socket;
    // The body of the server's own refusals (400, 408, 413, 431, 503); null: text/plain.
    HttpResponse (*refusal)(int status, std::string_view message) = nullptr;
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
    void serve(UniqueFd fd, UniqueFd control, std::string peer, std::string peer_key);

    ServerOptions m_options;
    HttpHandler m_handler;
    std::shared_ptr<const TlsServerContext> m_tls;  // null for plain HTTP
    UniqueFd m_listen;
    UniqueFd m_wake_read, m_wake_write;  // a pipe that interrupts the accept loop's poll
    uint16_t m_port{0};
    std::thread m_acceptor;
    std::atomic<bool> m_stopping{false};

    std::mutex m_mutex;  // guards the connection set and count
    std::condition_variable m_idle;
    std::set<int> m_open_fds;  // a duplicate of each connection's socket, for stop() to shut down
    size_t m_active{0};
    std::map<std::string, size_t> m_per_peer;  // open connections by peer key (address or /64)
};

}  // namespace cvm::net
