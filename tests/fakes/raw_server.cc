#include "raw_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>  // timeval (glibc's sys/socket.h brings it in, musl's does not)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace cvm::fakes {

namespace {

[[noreturn]] void die(const char* what)
{
    perror(what);
    abort();
}

struct Conn {
    UniqueFd fd;
    std::string received;
};

}  // namespace

std::unique_ptr<RawServer> RawServer::start(std::string reply, Mode mode)
{
    std::unique_ptr<RawServer> s(new RawServer(std::move(reply), mode));
    s->m_listen.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (!s->m_listen.valid() || bind(s->m_listen.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(s->m_listen.get(), 16) != 0 ||
        getsockname(s->m_listen.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        die("RawServer: listen");
    s->m_port = ntohs(addr.sin_port);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        die("RawServer: pipe");
    s->m_wake_read.reset(fds[0]);
    s->m_wake_write.reset(fds[1]);
    RawServer* raw = s.get();
    s->m_thread = std::thread([raw] { raw->loop(); });
    return s;
}

RawServer::~RawServer()
{
    [[maybe_unused]] ssize_t n = write(m_wake_write.get(), "x", 1);
    m_thread.join();
}

std::string RawServer::url(const std::string& target) const
{
    return "http://127.0.0.1:" + std::to_string(m_port) + target;
}

void RawServer::loop()
{
    std::vector<Conn> conns;
    for (;;) {
        std::vector<pollfd> fds = {{m_wake_read.get(), POLLIN, 0}, {m_listen.get(), POLLIN, 0}};
        for (const auto& c : conns)
            fds.push_back({c.fd.get(), POLLIN, 0});
        if (poll(fds.data(), fds.size(), -1) < 0)
            continue;
        if (fds[0].revents)
            return;  // closes every connection
        size_t polled = conns.size();
        if (fds[1].revents) {
            UniqueFd fd(accept4(m_listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (fd.valid()) {
                timeval send_timeout{2, 0};  // a client that stops reading cannot wedge the fake
                setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
                ++m_connections;
                if (m_mode == Mode::Greet) {  // then read and discard until the client leaves
                    [[maybe_unused]] ssize_t w = send(fd.get(), m_reply.data(), m_reply.size(), MSG_NOSIGNAL);
                }
                conns.push_back({std::move(fd), {}});
            }
        }
        for (size_t i = 0; i < polled; ++i) {
            if (!fds[i + 2].revents)
                continue;
            char buf[4096];
            ssize_t n = recv(conns[i].fd.get(), buf, sizeof buf, 0);
            if (n > 0)
                conns[i].received.append(buf, static_cast<size_t>(n));
            bool request_done = conns[i].received.find("\r\n\r\n") != std::string::npos;
            if (m_mode == Mode::Reply && request_done) {
                [[maybe_unused]] ssize_t w = send(conns[i].fd.get(), m_reply.data(), m_reply.size(), MSG_NOSIGNAL);
                shutdown(conns[i].fd.get(), SHUT_WR);
            }
            if (n <= 0 || (m_mode == Mode::Reply && request_done))
                conns[i].fd.reset();
        }
        std::erase_if(conns, [](const Conn& c) { return !c.fd.valid(); });
    }
}

std::string read_until_closed(const UniqueFd& fd, std::chrono::milliseconds wait)
{
    std::string out;
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
        pollfd p{fd.get(), POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        char buf[4096];
        ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
        if (n <= 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

UniqueFd loopback_connect(uint16_t port)
{
    return loopback_connect_from("127.0.0.1", port);
}

UniqueFd loopback_connect_from(const char* source, uint16_t port)
{
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in from{};
    from.sin_family = AF_INET;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!fd.valid() || inet_pton(AF_INET, source, &from.sin_addr) != 1 ||
        bind(fd.get(), reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        perror("loopback_connect");
        abort();
    }
    return fd;
}

}  // namespace cvm::fakes
