// TLS streams over mbedTLS 3.6 (TLS 1.2 and 1.3), both ends of a connection.
//
// Client: the server's certificate is always verified: against the CA bundle in `ca_file` (PEM),
// for the name `host` (also sent as SNI; an IP literal matches an iPAddress subjectAltName, or the
// CN of a certificate without subjectAltName). There is no option to skip verification.
//
// Client: presents a certificate of its own (TlsClientIdentity) when given one and the server
// asks for it (mutual TLS: the agent's RA-TLS client certificate, docs/cvmkb-1.md §9).
//
// Server: one TlsServerContext holds the certificate chain, the private key and the mbedTLS
// configuration that every accepted connection shares; clients are asked for a certificate only
// with ClientCertificates::Optional, and then any certificate is accepted at the X.509 layer: the
// handshake proves that the client holds its private key, and the request handler judges it
// (Stream::peer_certificate, HttpRequest::peer_certificate).
//
// Errors are Errc::Network naming the peer and mbedTLS's reason (for a certificate, the
// verification flags in words); timeouts, resets and a peer that hangs up during the handshake
// (a busy server closes connections it cannot serve) are Errc::Unavailable.
//
// Threads: mbedTLS is built with MBEDTLS_THREADING_C (cvm_mbedtls_config.h), which the sharing
// above relies on: streams run concurrently on their own threads without a process-wide lock.
#pragma once

#include <memory>
#include <string>

#include "base/secret.h"
#include "net/io.h"

namespace cvm::net {

inline constexpr const char* DEFAULT_CA_FILE = "/etc/ssl/certs/ca-certificates.crt";

// A certificate and its private key that a client presents when the server asks for one.
struct TlsClientIdentity {
    Bytes cert_der;       // one DER certificate; no chain is sent with it
    SecretBytes key_pem;  // its private key, PEM (SEC1 or PKCS#8), unencrypted
};

// Runs the handshake on the connected socket `fd` (which the stream then owns). With `identity`,
// the client presents it if the server asks for a certificate; Errc::Config when the certificate
// or key does not parse or they do not belong together (the key is never in the message).
Result<std::unique_ptr<Stream>> tls_connect(UniqueFd fd, const std::string& host, const std::string& peer,
                                            const std::string& ca_file, const IoTimeouts& timeouts,
                                            const TlsClientIdentity* identity = nullptr);

// Where a TLS server finds its identity.
struct TlsServerFiles {
    std::string cert_file;  // PEM certificate chain, the server's own certificate first
    std::string key_file;   // PEM private key (RSA or EC, unencrypted) of that certificate
};

// Whether a TLS server asks its clients for a certificate.
enum class ClientCertificates : uint8_t {
    NotRequested,  // no CertificateRequest: clients never send one
    // CertificateRequest sent, an empty answer allowed (MBEDTLS_SSL_VERIFY_OPTIONAL), and no CA
    // consulted: a verify callback clears every X.509 verdict, because an RA-TLS certificate is
    // self-signed and vouched for by the evidence inside it, which only the handler can check.
    // What the handshake does establish is possession: the client's CertificateVerify signature
    // must verify under the certificate's key (RFC 8446 §4.4.3; TLS 1.2: RFC 5246 §7.4.8), or
    // the handshake fails.
    Optional,
};

class TlsConfig;  // mbedTLS objects, private to the implementation

// A server's certificate, private key and TLS configuration (TLS 1.2 and 1.3, a random generator
// seeded once). Read-only once created, so any number of connection threads use it at once; it
// must outlive every stream tls_accept() made from it. The private key lives only inside
// mbedTLS's key context and the wiping buffers it was read through.
class TlsServerContext {
public:
    // Loads and checks the files once. Errc::Config naming the file and the reason when one is
    // unreadable, not PEM, does not parse, or the key does not match the first certificate.
    static Result<std::unique_ptr<TlsServerContext>>
    create(const TlsServerFiles& files, ClientCertificates clients = ClientCertificates::NotRequested);

    TlsServerContext(const TlsServerContext&) = delete;
    TlsServerContext& operator=(const TlsServerContext&) = delete;
    ~TlsServerContext();

private:
    explicit TlsServerContext(std::unique_ptr<TlsConfig> config);
    friend Result<std::unique_ptr<Stream>> tls_accept(UniqueFd fd, const TlsServerContext& context,
                                                      const std::string& peer, const IoTimeouts& timeouts);

    std::unique_ptr<TlsConfig> m_config;
};

// Runs the server side of the handshake on the accepted socket `fd`, which the stream then owns
// (on failure it is closed before returning). Bounded by `timeouts` like every read and write;
// the error never contains key material.
Result<std::unique_ptr<Stream>> tls_accept(UniqueFd fd, const TlsServerContext& context, const std::string& peer,
                                           const IoTimeouts& timeouts);

}  // namespace cvm::net
