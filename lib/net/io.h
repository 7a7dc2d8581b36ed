// Blocking TCP I/O with timeouts: every wait is a poll() bounded by a per-operation timeout and
// by the overall deadline of the exchange, whichever comes first.
//
// Errors are Errc::Unavailable for what retrying may cure (timeouts, refused or reset
// connections, temporary name-resolution failures) and Errc::Network otherwise; every message
// names the peer ("host:port") and the operation.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "base/bytes.h"
#include "base/file.h"
#include "base/result.h"

namespace cvm::net {

// A point in monotonic time after which an exchange gives up.
class Deadline {
public:
    static Deadline after_ms(int64_t ms);

    // Milliseconds left (0 once expired).
    int64_t remaining_ms() const;

    // min(op_timeout_ms, remaining_ms()) as a poll() timeout.
    int poll_timeout_ms(int64_t op_timeout_ms) const;

    // The earlier of two deadlines.
    static Deadline earlier(const Deadline& a, const Deadline& b) { return a.m_at < b.m_at ? a : b; }

private:
    std::chrono::steady_clock::time_point m_at;
};

// How long one exchange may take: per read or write without progress, and in total.
struct IoTimeouts {
    int64_t io_timeout_ms;
    Deadline deadline;
};

// A byte stream to a peer: plain TCP here, TLS in tls.h. read_some() returns 0 at end of stream.
class Stream {
public:
    virtual ~Stream() = default;
    virtual Result<size_t> read_some(std::span<uint8_t> buffer) = 0;
    virtual Result<void> write_all(ByteView data) = 0;
    // Ends our direction of the stream (TLS: a close_notify alert first) while the peer may still
    // send; the socket itself closes with the stream. Nothing may be written afterwards.
    virtual Result<void> close_write() = 0;
    // Replaces the overall deadline of later reads and writes (a server moving from its header
    // deadline to its body-rate deadline); the per-operation timeout stays.
    virtual void set_deadline(Deadline deadline) = 0;
    // The DER certificate the peer presented in a TLS handshake (the server's to a client, a
    // client's to a server that asked for one: ClientCertificates in tls.h); empty for plain TCP
    // or when it presented none. The handshake proved that the peer holds its private key;
    // whether anyone vouches for it depends on the verification the connection was set up with.
    virtual Bytes peer_certificate() const { return {}; }
};

// Waits until `fd` is ready for `events` (POLLIN/POLLOUT). Times out with Errc::Unavailable
// naming `what` and `peer`.
Result<void> wait_fd(int fd, short events, const IoTimeouts& timeouts, const char* what, const std::string& peer);

// One recv() on a non-blocking socket, waiting as needed; 0 means the peer closed.
Result<size_t> socket_read(int fd, std::span<uint8_t> buffer, const IoTimeouts& timeouts, const std::string& peer);

// send()s everything (MSG_NOSIGNAL: a closed peer is an error, not a SIGPIPE).
Result<void> socket_write_all(int fd, ByteView data, const IoTimeouts& timeouts, const std::string& peer);

// Resolves `host` (numeric IPv4/IPv6 or a name, through getaddrinfo) and connects to the first
// address that accepts within `connect_timeout_ms`. The socket is non-blocking and close-on-exec.
// Name resolution itself is not bounded by the timeouts (getaddrinfo cannot be); numeric hosts
// resolve without any I/O.
Result<UniqueFd> tcp_connect(const std::string& host, uint16_t port, int64_t connect_timeout_ms,
                             const Deadline& deadline);

// "host:port", with brackets around IPv6 literals.
std::string peer_name(const std::string& host, uint16_t port);

// Plain TCP stream over a connected non-blocking socket it owns.
class PlainStream final : public Stream {
public:
    PlainStream(UniqueFd fd, std::string peer, IoTimeouts timeouts)
            : m_fd(std::move(fd)), m_peer(std::move(peer)), m_timeouts(timeouts)
    {
    }
    Result<size_t> read_some(std::span<uint8_t> buffer) override;
    Result<void> write_all(ByteView data) override;
    Result<void> close_write() override;
    void set_deadline(Deadline deadline) override { m_timeouts.deadline = deadline; }

private:
    UniqueFd m_fd;
    std::string m_peer;
    IoTimeouts m_timeouts;
};

}  // namespace cvm::net
