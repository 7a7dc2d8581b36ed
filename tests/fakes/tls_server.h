// A TLS server on 127.0.0.1 (ephemeral port) with a throw-away PKI made at start (test_pki.h): a
// test CA and a server certificate for CN=127.0.0.1 (no subjectAltName) signed by it. It answers
// every request with the same raw HTTP bytes. For testing the https client end to end without the
// internet.
//
// The server speaks TLS 1.2 only, so that the client's TLS 1.2 path stays tested: net::HttpServer
// with TLS, which the client also meets in tests, negotiates TLS 1.3.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "base/file.h"

namespace cvm::fakes {

class TlsServer {
public:
    // Writes the CA certificate (PEM) to `ca_file`. Aborts the process on any failure.
    static std::unique_ptr<TlsServer> start(std::string reply, const std::string& ca_file);
    ~TlsServer();

    uint16_t port() const { return m_port; }

private:
    struct Tls;  // the server's mbedTLS contexts
    explicit TlsServer(std::string reply);
    void loop();

    std::string m_reply;
    std::unique_ptr<Tls> m_tls;
    UniqueFd m_listen, m_wake_read, m_wake_write;
    uint16_t m_port{0};
    std::thread m_thread;
};

}  // namespace cvm::fakes
