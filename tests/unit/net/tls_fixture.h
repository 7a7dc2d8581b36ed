// Shared by the https server tests: a test PKI written to a temporary directory, and a bare
// mbedTLS client for what net::http_* never does (half-sent requests, TLS 1.2 only, watching for
// close_notify).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/http_client.h"
#include "net/http_server.h"
#include "test_pki.h"

namespace cvm::test {

inline constexpr uint16_t TLS_1_2 = 0x0303;  // protocol version numbers as on the wire
inline constexpr uint16_t TLS_1_3 = 0x0304;

// ca.pem; chain.pem = a server certificate for CN=cvminit test server with subjectAltName
// iPAddress 127.0.0.1, followed by the CA certificate (a chain, leaf first); key.pem = its key.
// The directory goes away with the object.
class TlsFiles {
public:
    explicit TlsFiles(fakes::KeyKind kind = fakes::KeyKind::EcP256);
    TlsFiles(const TlsFiles&) = delete;
    TlsFiles& operator=(const TlsFiles&) = delete;
    ~TlsFiles();

    // Writes `content` to `name` in the directory and returns its path.
    std::string write(const std::string& name, const std::string& content) const;

    net::TlsServerFiles server_files() const { return {cert_file, key_file}; }
    net::ServerOptions server_options() const;  // TLS with the files above, 127.0.0.1, short timeouts
    net::HttpOptions client_options() const;    // trusts ca.pem, short timeouts

    fakes::TestPki pki;
    std::string dir, ca_file, cert_file, key_file;
};

// One TLS connection to 127.0.0.1:`port`, verified against `ca_file` for the name 127.0.0.1.
// The handshake happens in the constructor; a failed one fails the test case.
class RawTlsClient {
public:
    RawTlsClient(uint16_t port, const std::string& ca_file, uint16_t max_version = TLS_1_3);
    RawTlsClient(const RawTlsClient&) = delete;
    RawTlsClient& operator=(const RawTlsClient&) = delete;
    ~RawTlsClient();

    uint16_t version() const;  // negotiated: TLS_1_2 or TLS_1_3
    void send(std::string_view data);

    // Everything the server sends until it ends the stream (or 3 s pass). `close_notify` tells
    // whether the end was a close_notify alert rather than a bare TCP close.
    std::string read_all(bool* close_notify = nullptr);

private:
    struct State;
    std::unique_ptr<State> m_state;
};

}  // namespace cvm::test
