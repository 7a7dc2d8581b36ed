// A TLS server on 127.0.0.1 (ephemeral port) with a throw-away PKI made at start: an ECDSA P-256
// test CA and a server certificate for CN=127.0.0.1 signed by it. It answers every request with
// the same raw HTTP bytes. For testing the https client end to end without the internet.
//
// The server speaks TLS 1.2 only: mbedTLS is built without MBEDTLS_THREADING_C, and a TLS 1.3
// server thread would share PSA crypto state with the client under test (see net/tls.h).
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
    struct Pki;
    explicit TlsServer(std::string reply);
    void loop();

    std::string m_reply;
    std::unique_ptr<Pki> m_pki;
    UniqueFd m_listen, m_wake_read, m_wake_write;
    uint16_t m_port{0};
    std::thread m_thread;
};

}  // namespace cvm::fakes
