#include "net/io.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cvm::net {

Deadline Deadline::after_ms(int64_t ms)
{
    Deadline d;
    d.m_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    return d;
}

int64_t Deadline::remaining_ms() const
{
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_at - std::chrono::steady_clock::now());
    return std::max<int64_t>(0, left.count());
}

int Deadline::poll_timeout_ms(int64_t op_timeout_ms) const
{
    return static_cast<int>(std::clamp<int64_t>(std::min(op_timeout_ms, remaining_ms()), 0, INT_MAX));
}

std::string peer_name(const std::string& host, uint16_t port)
{
    if (host.find(':') != std::string::npos)
        return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

Result<void> wait_fd(int fd, short events, const IoTimeouts& timeouts, const char* what, const std::string& peer)
{
    for (;;) {
        int timeout = timeouts.deadline.poll_timeout_ms(timeouts.io_timeout_ms);
        pollfd p{fd, events, 0};
        int n = timeout > 0 ? poll(&p, 1, timeout) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno(Errc::Network, errno, "poll while %s %s: %s", what, peer.c_str(), strerror(errno));
        if (n == 0) {
            bool total = timeouts.deadline.remaining_ms() == 0;
            return Error::make(Errc::Unavailable, "timed out %s %s (%s)", what, peer.c_str(),
                               total ? "overall deadline passed" : "no progress within the I/O timeout");
        }
        return {};  // ready, or an error condition the next syscall reports
    }
}

namespace {

Errc classify_errno(int err)
{
    switch (err) {
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
    case EAGAIN: return Errc::Unavailable;
    default: return Errc::Network;
    }
}

}  // namespace

Result<size_t> socket_read(int fd, std::span<uint8_t> buffer, const IoTimeouts& timeouts, const std::string& peer)
{
    for (;;) {
        ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
        if (n >= 0)
            return static_cast<size_t>(n);
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return Error::from_errno(classify_errno(errno), errno, "cannot read from %s: %s", peer.c_str(),
                                     strerror(errno));
        TRY(wait_fd(fd, POLLIN, timeouts, "reading from", peer));
    }
}

Result<void> socket_write_all(int fd, ByteView data, const IoTimeouts& timeouts, const std::string& peer)
{
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n >= 0) {
            done += static_cast<size_t>(n);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return Error::from_errno(classify_errno(errno), errno, "cannot write to %s: %s", peer.c_str(),
                                     strerror(errno));
        TRY(wait_fd(fd, POLLOUT, timeouts, "writing to", peer));
    }
    return {};
}

namespace {

// One connect() attempt to one resolved address.
Result<UniqueFd> connect_one(const addrinfo& ai, const IoTimeouts& timeouts, const std::string& peer)
{
    UniqueFd fd(socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol));
    if (!fd.valid())
        return Error::from_errno(Errc::Network, errno, "cannot create a socket for %s: %s", peer.c_str(),
                                 strerror(errno));
    if (connect(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) {
        if (errno != EINPROGRESS)
            return Error::from_errno(classify_errno(errno), errno, "cannot connect to %s: %s", peer.c_str(),
                                     strerror(errno));
        TRY(wait_fd(fd.get(), POLLOUT, timeouts, "connecting to", peer));
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err != 0)
            return Error::from_errno(classify_errno(err), err, "cannot connect to %s: %s", peer.c_str(), strerror(err));
    }
    return fd;
}

}  // namespace

Result<UniqueFd> tcp_connect(const std::string& host, uint16_t port, int64_t connect_timeout_ms,
                             const Deadline& deadline)
{
    std::string peer = peer_name(host, port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    addrinfo* list = nullptr;
    std::string service = std::to_string(port);
    int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
    if (rc == EAI_ADDRFAMILY || rc == EAI_NONAME) {  // AI_ADDRCONFIG hides ::1 on hosts without IPv6
        hints.ai_flags = AI_NUMERICSERV;
        rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
    }
    if (rc != 0)
        return Error::make(rc == EAI_AGAIN ? Errc::Unavailable : Errc::Network, "cannot resolve %s: %s", peer.c_str(),
                           gai_strerror(rc));

    IoTimeouts timeouts{connect_timeout_ms, deadline};
    Result<UniqueFd> last = Error::make(Errc::Network, "no address for %s", peer.c_str());
    for (addrinfo* ai = list; ai; ai = ai->ai_next) {
        last = connect_one(*ai, timeouts, peer);
        if (last.ok() || deadline.remaining_ms() == 0)
            break;
    }
    freeaddrinfo(list);
    return last;
}

Result<size_t> PlainStream::read_some(std::span<uint8_t> buffer)
{
    return socket_read(m_fd.get(), buffer, m_timeouts, m_peer);
}

Result<void> PlainStream::write_all(ByteView data)
{
    return socket_write_all(m_fd.get(), data, m_timeouts, m_peer);
}

Result<void> PlainStream::close_write()
{
    if (shutdown(m_fd.get(), SHUT_WR) != 0)
        return Error::from_errno(classify_errno(errno), errno, "cannot shut down writing to %s: %s", m_peer.c_str(),
                                 strerror(errno));
    return {};
}

}  // namespace cvm::net
