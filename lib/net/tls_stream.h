// Internal to lib/net: the mbedTLS parts that the TLS clients (tls.cc, tls_checked.cc) and
// servers (tls_server.cc, tls_selecting.cc) share. Includes mbedTLS headers, so only those files
// include it.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <memory>
#include <string>

#include "net/tls.h"

#if !defined(MBEDTLS_THREADING_C)
#error "net/tls.h shares TLS configurations between threads: mbedTLS must be built with MBEDTLS_THREADING_C"
#endif
#if !defined(MBEDTLS_SSL_KEEP_PEER_CERTIFICATE)
#error "Stream::peer_certificate() reads the peer's certificate after the handshake: MBEDTLS_SSL_KEEP_PEER_CERTIFICATE"
#endif

namespace cvm::net {

// mbedTLS's description of an error code, e.g. "X509 - The CRT/CRL/CSR format is invalid".
std::string mbedtls_reason(int rc);

// An ssl_config and everything it points at, so that they are set up and torn down together.
// Not movable: the config holds pointers to the other members.
class TlsConfig {
public:
    TlsConfig();
    TlsConfig(const TlsConfig&) = delete;
    TlsConfig& operator=(const TlsConfig&) = delete;
    ~TlsConfig();

    // Initialises PSA crypto (once per process; TLS 1.3 needs it), seeds the random generator and
    // applies the defaults for `endpoint` (MBEDTLS_SSL_IS_CLIENT/SERVER) with TLS 1.2 as the
    // minimum. Errc::Network on failure.
    Result<void> prepare(int endpoint);

    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;  // mbedtls_ctr_drbg_random locks it: shared by threads
    mbedtls_x509_crt chain;         // client: trusted CAs; server: own chain, leaf first
    mbedtls_x509_crt own;           // client only: the certificate it presents (TlsClientIdentity)
    mbedtls_pk_context key;         // server: the leaf's private key; client: the key of `own`
    mbedtls_ssl_config conf;
    // Server, TlsServerContext::create_selecting: chooses each handshake's certificate for `key`.
    CertificateSelector select;
};

// One TLS connection over a non-blocking socket it owns. Reads and writes go through the
// socket_* functions of net/io.h, so every wait is bounded by `timeouts`.
class TlsStream final : public Stream {
public:
    // `config` is used for the stream's whole life: it is either `owned` (a client's) or borrowed
    // from a TlsServerContext that outlives the stream.
    TlsStream(UniqueFd fd, std::string peer, const IoTimeouts& timeouts, std::unique_ptr<TlsConfig> owned);
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;
    ~TlsStream() override;

    // Binds the connection to `config` and to the socket. Errc::Network on failure.
    Result<void> setup(const TlsConfig& config);
    mbedtls_ssl_context& ssl() { return m_ssl; }
    // Server: the certificate a CertificateSelector chose for this handshake (tls_selecting.cc);
    // it lives as long as the connection that refers to it. setup() makes the stream the ssl
    // context's user data, so that mbedTLS callbacks find it.
    mbedtls_x509_crt& selected_cert() { return m_selected_cert; }

    // Runs the handshake to completion: 0, or the mbedTLS error for the caller to word (see
    // handshake_error() for everything but certificate verification).
    int handshake();
    Error handshake_error(int rc);

    Result<size_t> read_some(std::span<uint8_t> buffer) override;
    Result<void> write_all(ByteView data) override;
    Result<void> close_write() override;
    void set_deadline(Deadline deadline) override { m_timeouts.deadline = deadline; }
    Bytes peer_certificate() const override;

private:
    static int bio_send(void* ctx, const unsigned char* buf, size_t len);
    static int bio_recv(void* ctx, unsigned char* buf, size_t len);
    void clear_io_error() { m_have_io_error = false; }
    Error io_error(int rc, const char* what);

    UniqueFd m_fd;
    std::string m_peer;
    IoTimeouts m_timeouts;
    std::unique_ptr<TlsConfig> m_owned_config;
    mbedtls_ssl_context m_ssl;
    mbedtls_x509_crt m_selected_cert;
    Error m_io_error{};  // the socket-level cause behind an MBEDTLS_ERR_NET_* result
    bool m_have_io_error{false};
};

}  // namespace cvm::net
