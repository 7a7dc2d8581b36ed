// A TCP server on 127.0.0.1 (ephemeral port) that answers every connection with the same raw
// bytes, or never answers: for tests of what clients do with broken, truncated or silent peers.
// Unlike net::HttpServer it writes whatever it is given, valid HTTP or not.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "base/file.h"

namespace cvm::fakes {

// A blocking client socket connected to 127.0.0.1:`port`, for requests a real client would
// never send (slow, partial, unread). Aborts the process if it cannot connect.
UniqueFd loopback_connect(uint16_t port);

// The same from the source address `source` (any of 127.0.0.0/8 on Linux's loopback): a second
// peer, as a server counting connections per address sees it.
UniqueFd loopback_connect_from(const char* source, uint16_t port);

// What the peer sends on `fd` within `wait`, until it closes the connection.
std::string read_until_closed(const UniqueFd& fd, std::chrono::milliseconds wait);

class RawServer {
public:
    enum class Mode : uint8_t {
        Reply,   // after the request's blank line, send the reply and close
        Silent,  // accept, read and discard, never answer, keep the connection open
        Greet,   // send the reply as soon as a connection is accepted, then read and discard
    };

    // Aborts the process if the socket cannot be set up (tests cannot run without it).
    static std::unique_ptr<RawServer> start(std::string reply, Mode mode = Mode::Reply);
    ~RawServer();

    uint16_t port() const { return m_port; }
    std::string url(const std::string& target = "/") const;
    size_t connections() const { return m_connections.load(); }

private:
    RawServer(std::string reply, Mode mode) : m_reply(std::move(reply)), m_mode(mode) {}
    void loop();

    std::string m_reply;
    Mode m_mode;
    UniqueFd m_listen, m_wake_read, m_wake_write;
    uint16_t m_port{0};
    std::atomic<size_t> m_connections{0};
    std::thread m_thread;
};

}  // namespace cvm::fakes
