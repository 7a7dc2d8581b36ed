#include "net/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

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

HttpResponse refusal_for(ParseFailure failure)
{
    switch (failure) {
    case ParseFailure::HeadersTooLarge: return plain_answer(431, "request headers too large\n");
    case ParseFailure::BodyTooLarge: return plain_answer(413, "request body too large\n");
    default: return plain_answer(400, "malformed request\n");
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

// Reads one request from `stream` and answers it: the handler's response, or the server's own
// refusal. `fd` is the socket beneath the stream.
void exchange(Stream& stream, int fd, const ServerOptions& options, const HttpHandler& handler, const std::string& peer)
{
    MessageParser parser(MessageKind::Request, options.limits, peer);
    std::array<uint8_t, 16384> buffer;
    std::optional<HttpResponse> refusal;
    bool received = false;
    for (;;) {
        auto n = stream.read_some(buffer);
        if (!n.ok()) {
            if (received && n.error().code() == Errc::Unavailable && n.error().errno_value() == 0)  // our timeout
                refusal = plain_answer(408, "request timeout\n");
            break;
        }
        if (n.value() == 0) {
            if (received && !parser.finish().ok())
                refusal = refusal_for(parser.failure());
            break;
        }
        received = true;
        auto done = parser.feed(ByteView(buffer.data(), n.value()));
        if (!done.ok())
            refusal = refusal_for(parser.failure());
        if (!done.ok() || done.value())
            break;
    }
    if (parser.complete()) {
        HttpResponse response = handler(parser.take_request());
        if (stream.write_all(as_bytes(serialize_response(response))).ok())
            (void)stream.close_write();
    } else if (refusal && stream.write_all(as_bytes(serialize_response(*refusal))).ok()) {
        linger(stream, fd);
    }
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
    if (options.tls)
        server->m_tls = TRY(TlsServerContext::create(*options.tls));
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
        if (m_active >= m_options.max_connections) {
            if (!m_tls) {  // over TLS a 503 would need a handshake first, the very work being limited
                std::string busy = serialize_response(plain_answer(503, "server busy\n"));
                [[maybe_unused]] ssize_t n = send(fd.get(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            }
            continue;
        }
        // stop() shuts connections down through a duplicate that each thread closes only after
        // leaving the set: the stream may close its own descriptor at any time (a failed handshake
        // closes it inside tls_accept), and a number in the set must never be reused meanwhile.
        UniqueFd control(fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
        if (!control.valid())
            continue;  // out of descriptors: drop this connection, as accept4 would have
        ++m_active;
        m_open_fds.insert(control.get());
        std::thread([this, conn = fd.release(), ctl = control.release(), peer = address_text(addr)]() mutable {
            serve(UniqueFd(conn), UniqueFd(ctl), std::move(peer));
        }).detach();
    }
}

void HttpServer::serve(UniqueFd fd, UniqueFd control, std::string peer)
{
    // One deadline from accept on: a slow handshake counts against it like a slow request.
    IoTimeouts timeouts{m_options.io_timeout_ms, Deadline::after_ms(m_options.request_timeout_ms)};
    std::unique_ptr<Stream> stream;
    if (m_tls) {
        auto accepted = tls_accept(std::move(fd), *m_tls, peer, timeouts);
        if (accepted.ok())  // else there is no channel to answer over: drop the connection
            stream = accepted.release_value();
    } else {
        stream = std::make_unique<PlainStream>(std::move(fd), peer, timeouts);
    }
    if (stream)
        exchange(*stream, control.get(), m_options, m_handler, peer);
    stream.reset();
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
