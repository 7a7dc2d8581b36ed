#include "net/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "base/secret.h"
#include "net/http_parser.h"
#include "net/io.h"
#include "net/tls.h"

namespace cvm::net {

namespace {

std::string serialize_response(const HttpResponse& response)
{
    std::string out =
        "HTTP/1.1 " + std::to_string(response.status) + " " + std::string(reason_phrase(response.status)) + "\r\n";
    for (const auto& h : response.headers.all()) {
        if (strcasecmp(h.name.c_str(), "Content-Length") == 0 || strcasecmp(h.name.c_str(), "Connection") == 0 ||
            strcasecmp(h.name.c_str(), "Transfer-Encoding") == 0 || !check_outgoing_header(h).ok())
            continue;
        out += h.name + ": " + h.value + "\r\n";
    }
    if (response.status != 204 && response.status != 304)
        out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    out += "Connection: close\r\n\r\n";
    out.append(response.body.begin(), response.body.end());
    return out;
}

HttpResponse plain_answer(int status, std::string_view text)
{
    return {status, {{"Content-Type", "text/plain"}}, Bytes(text.begin(), text.end())};
}

// The server's own answer: text/plain, or the body ServerOptions::refusal makes.
HttpResponse refuse(const ServerOptions& options, int status, std::string_view text)
{
    return options.refusal ? options.refusal(status, text.substr(0, text.size() - 1)) : plain_answer(status, text);
}

HttpResponse refusal_for(const ServerOptions& options, ParseFailure failure)
{
    switch (failure) {
    case ParseFailure::HeadersTooLarge: return refuse(options, 431, "request headers too large\n");
    case ParseFailure::BodyTooLarge: return refuse(options, 413, "request body too large\n");
    default: return refuse(options, 400, "malformed request\n");
    }
}

// After refusing a request we have not read completely, keep reading (and discarding) for a
// short while so that closing the socket does not reset the connection before the client has
// read our answer (a "lingering close"). Reads the socket `fd` underneath the stream: what is
// discarded need not be decrypted.
void linger(Stream& stream, int fd)
{
    if (!stream.close_write().ok())
        return;
    IoTimeouts drain{200, Deadline::after_ms(1000)};
    std::array<uint8_t, 4096> sink;
    for (size_t total = 0; total < 256 * 1024;) {
        auto n = socket_read(fd, sink, drain, "");
        if (!n.ok() || n.value() == 0)
            return;
        total += n.value();
    }
}

using Clock = std::chrono::steady_clock;

// The deadline of the next body read under the rate floor: byte `have + 1` is due
// body_grace_ms + (have + 1) * 1000 / min_body_rate ms after the headers ended.
Deadline body_deadline(const ServerOptions& options, Clock::time_point headers_end, size_t have,
                       const Deadline& request_deadline)
{
    if (options.min_body_rate == 0)
        return request_deadline;
    int64_t due_ms = options.body_grace_ms + static_cast<int64_t>((have + 1) * 1000 / options.min_body_rate);
    int64_t elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - headers_end).count();
    return Deadline::earlier(request_deadline, Deadline::after_ms(std::max<int64_t>(0, due_ms - elapsed_ms)));
}

// Reads one request from `stream` and answers it: the handler's response, or the server's own
// refusal. `fd` is the socket beneath the stream, whose deadline is the header deadline until
// the headers end, then the body-rate deadline.
void exchange(Stream& stream, int fd, const ServerOptions& options, const HttpHandler& handler, const std::string& peer,
              const Deadline& request_deadline, const std::function<void()>& request_read)
{
    MessageParser parser(MessageKind::Request, options.limits, peer);
    std::array<uint8_t, 16384> buffer;
    std::optional<HttpResponse> refusal;
    bool received = false;
    std::optional<Clock::time_point> headers_end;
    for (;;) {
        auto n = stream.read_some(buffer);
        if (!n.ok()) {
            if (received && n.error().code() == Errc::Unavailable && n.error().errno_value() == 0)  // our timeout
                refusal = refuse(options, 408, "request timeout\n");
            break;
        }
        if (n.value() == 0) {
            if (received && !parser.finish().ok())
                refusal = refusal_for(options, parser.failure());
            break;
        }
        received = true;
        auto done = parser.feed(ByteView(buffer.data(), n.value()));
        if (!done.ok())
            refusal = refusal_for(options, parser.failure());
        if (!done.ok() || done.value())
            break;
        if (parser.headers_complete()) {
            if (!headers_end)
                headers_end = Clock::now();
            stream.set_deadline(body_deadline(options, *headers_end, parser.body_size(), request_deadline));
        }
    }
    // The answer has its own time: a handler may have waited on KDS beyond the request deadline.
    stream.set_deadline(Deadline::after_ms(options.io_timeout_ms));
    if (parser.complete()) {
        request_read();
        HttpRequest request = parser.take_request();
        request.peer_certificate = stream.peer_certificate();
        HttpResponse response = handler(request);
        stream.set_deadline(Deadline::after_ms(options.io_timeout_ms));
        std::string answer = serialize_response(response);
        if (stream.write_all(as_bytes(answer)).ok())
            (void)stream.close_write();
        if (options.limits.secret_bodies) {  // HttpLimits: nothing the handler saw outlives the answer
            secure_wipe(request.body);
            secure_wipe(response.body);
            secure_wipe({reinterpret_cast<uint8_t*>(answer.data()), answer.size()});
        }
    } else if (refusal && stream.write_all(as_bytes(serialize_response(*refusal))).ok()) {
        linger(stream, fd);
    }
    if (options.limits.secret_bodies)
        secure_wipe(buffer);
}

std::string address_text(const sockaddr_storage& addr)
{
    char host[INET6_ADDRSTRLEN] = "?";
    uint16_t port = 0;
    if (addr.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (addr.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    return peer_name(host, port);
}

size_t per_peer_cap(const ServerOptions& options)
{
    if (options.max_connections_per_peer)
        return *options.max_connections_per_peer;
    return std::max<size_t>(1, options.max_connections / 4);
}

// What max_connections_per_peer counts by: the IPv4 address, or the /64 of an IPv6 address (one
// host usually holds a whole /64, so counting single IPv6 addresses would cap nothing).
std::string peer_key(const sockaddr_storage& addr)
{
    if (addr.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
        if (!IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            in6_addr prefix{};
            std::memcpy(&prefix, &in6->sin6_addr, 8);
            char host[INET6_ADDRSTRLEN] = "?";
            inet_ntop(AF_INET6, &prefix, host, sizeof host);
            return std::string(host) + "/64";
        }
        char host[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof host);
        return host;
    }
    if (addr.ss_family == AF_INET) {
        char host[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, host, sizeof host);
        return host;
    }
    return "?";
}

Result<UniqueFd> listen_on(const std::string& address, uint16_t port, uint16_t* bound_port)
{
    sockaddr_storage addr{};
    socklen_t len = 0;
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (inet_pton(AF_INET, address.c_str(), &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        len = sizeof *in;
    } else if (inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        len = sizeof *in6;
    } else {
        return Error::make(Errc::Config, "cannot listen on \"%s\": not a numeric IPv4 or IPv6 address",
                           address.c_str());
    }
    std::string where = peer_name(address, port);
    UniqueFd fd(socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    int one = 1;
    if (!fd.valid() || setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd.get(), 128) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot listen on %s: %s", where.c_str(), strerror(errno));
    len = sizeof addr;
    if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return Error::from_errno(Errc::Io, errno, "getsockname for %s: %s", where.c_str(), strerror(errno));
    *bound_port = ntohs(addr.ss_family == AF_INET ? in->sin_port : in6->sin6_port);
    return fd;
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(const ServerOptions& options, HttpHandler handler)
{
    std::unique_ptr<HttpServer> server(new HttpServer(options, std::move(handler)));
    if (options.tls && options.tls_context)
        return Error::make(Errc::Config, "an HTTP server takes TLS files or a TLS context, not both");
    if (options.tls)
        server->m_tls = TRY(TlsServerContext::create(*options.tls, options.client_certificates));
    else
        server->m_tls = options.tls_context;
    if (options.unix_socket && server->m_tls)
        return Error::make(Errc::Config, "an HTTP server on a Unix socket takes no TLS");
    if (options.unix_socket)
        server->m_listen = TRY(listen_unix(*options.unix_socket));
    else
        server->m_listen = TRY(listen_on(options.address, options.port, &server->m_port));
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot create the server's wake-up pipe: %s", strerror(errno));
    server->m_wake_read.reset(pipe_fds[0]);
    server->m_wake_write.reset(pipe_fds[1]);
    HttpServer* raw = server.get();
    server->m_acceptor = std::thread([raw] { raw->accept_loop(); });
    return server;
}

void HttpServer::accept_loop()
{
    while (!m_stopping.load()) {
        pollfd fds[2] = {{m_listen.get(), POLLIN, 0}, {m_wake_read.get(), POLLIN, 0}};
        if (poll(fds, 2, -1) < 0 || fds[1].revents != 0)
            continue;  // EINTR, or stop() woke us: the loop condition decides
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        UniqueFd fd(accept4(m_listen.get(), reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd.valid()) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                usleep(10 * 1000);  // out of descriptors or memory: do not spin
            continue;
        }
        std::lock_guard lock(m_mutex);
        std::string key = peer_key(addr);
        const size_t peer_cap = per_peer_cap(m_options);
        const bool peer_full = peer_cap != 0 && m_per_peer[key] >= peer_cap;
        if (m_active >= m_options.max_connections || peer_full) {
            if (!m_tls) {  // over TLS a 503 would need a handshake first, the very work being limited
                std::string busy = serialize_response(
                    refuse(m_options, 503, peer_full ? "too many connections from this address\n" : "server busy\n"));
                [[maybe_unused]] ssize_t n = send(fd.get(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            }
            if (m_per_peer[key] == 0)
                m_per_peer.erase(key);
            continue;
        }
        // stop() shuts connections down through a duplicate that each thread closes only after
        // leaving the set: the stream may close its own descriptor at any time (a failed handshake
        // closes it inside tls_accept), and a number in the set must never be reused meanwhile.
        UniqueFd control(fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
        if (!control.valid())
            continue;  // out of descriptors: drop this connection, as accept4 would have
        ++m_active;
        ++m_per_peer[key];
        m_open_fds.insert(control.get());
        std::thread([this, conn = fd.release(), ctl = control.release(), peer = address_text(addr),
                     key = std::move(key)]() mutable {
            serve(UniqueFd(conn), UniqueFd(ctl), std::move(peer), std::move(key));
        }).detach();
    }
}

void HttpServer::serve(UniqueFd fd, UniqueFd control, std::string peer, std::string peer_key)
{
    // Deadlines from accept on: a slow handshake counts against the header deadline like slow
    // headers.
    const Deadline request_deadline = Deadline::after_ms(m_options.request_timeout_ms);
    IoTimeouts timeouts{m_options.io_timeout_ms,
                        Deadline::earlier(request_deadline, Deadline::after_ms(m_options.header_timeout_ms))};
    std::unique_ptr<Stream> stream;
    if (m_tls) {
        auto accepted = tls_accept(std::move(fd), *m_tls, peer, timeouts);
        if (accepted.ok())  // else there is no channel to answer over: drop the connection
            stream = accepted.release_value();
    } else {
        stream = std::make_unique<PlainStream>(std::move(fd), peer, timeouts);
    }
    // The connection counts against its peer's cap while it is still sending its request.
    bool reading = true;
    auto request_read = [&] {
        std::lock_guard lock(m_mutex);
        if (--m_per_peer[peer_key] == 0)
            m_per_peer.erase(peer_key);
        reading = false;
    };
    if (stream)
        exchange(*stream, control.get(), m_options, m_handler, peer, request_deadline, request_read);
    stream.reset();
    if (reading)
        request_read();
    {
        std::lock_guard lock(m_mutex);
        m_open_fds.erase(control.get());
        --m_active;
        m_idle.notify_all();
    }
    control.reset();  // only now may the number be reused
}

void HttpServer::stop()
{
    if (m_acceptor.joinable()) {
        m_stopping.store(true);
        [[maybe_unused]] ssize_t n = write(m_wake_write.get(), "x", 1);
        m_acceptor.join();
        m_listen.reset();  // new connections are refused from now on
    }
    std::unique_lock lock(m_mutex);
    for (int fd : m_open_fds)
        shutdown(fd, SHUT_RDWR);
    m_idle.wait(lock, [this] { return m_active == 0; });
}

}  // namespace cvm::net
