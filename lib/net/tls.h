// TLS streams over mbedTLS 3.6 (TLS 1.2 and 1.3), both ends of a connection.
//
// Client: the server's certificate is always verified: against the CA bundle in `ca_file` (PEM),
// for the name `host` (also sent as SNI; an IP literal matches an iPAddress subjectAltName, or the
// CN of a certificate without subjectAltName). There is no option to skip verification.
//
// Client: presents a certificate of its own (TlsClientIdentity) when given one and the server
// asks for it (mutual TLS: the agent's RA-TLS client certificate, docs/cvmkb-1.md §10).
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

#include <functional>
#include <memory>
#include <string>
#include <string_view>

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

// The judgement of a server's certificate that replaces X.509 trust in tls_connect_checked():
// success accepts it, an error refuses it.
using PeerCertificateCheck = std::function<Result<void>(ByteView cert_der)>;

// A client handshake that consults no CA: `check` is called once, during the handshake, with the
// server's certificate (DER; any other certificates it sent are ignored), and an error from it
// aborts the handshake with an access_denied alert and is returned as it is. Names, dates, key
// usage and chains are not checked by X.509 rules: the caller's check decides (an RA-TLS
// certificate is vouched for by the evidence inside it). What the handshake still proves is
// possession: the server's CertificateVerify (TLS 1.3) or ServerKeyExchange (TLS 1.2) signature
// must verify under the certificate's key, so a returned stream is with the holder of that key.
// `server_name` is sent as SNI unless empty (then no SNI is sent).
Result<std::unique_ptr<Stream>> tls_connect_checked(UniqueFd fd, const std::string& server_name,
                                                    const std::string& peer, const PeerCertificateCheck& check,
                                                    const IoTimeouts& timeouts);

// Chooses a TLS server's certificate for one handshake from the name the client sent as SNI
// ("" when it sent none): DER, or PEM with the leaf first. An error aborts the handshake with
// an unrecognized_name alert (RFC 6066 §3) when it is Errc::Format (the name is not one the
// server serves), with internal_error otherwise.
using CertificateSelector = std::function<Result<Bytes>(std::string_view server_name)>;

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

    // A context whose certificate `select` chooses per handshake, called on the connection's
    // thread (concurrently for concurrent handshakes), for the private key `key_pem` (PEM,
    // unencrypted; SEC1 or PKCS#8): a selected certificate of another key fails its handshake.
    // Errc::Config when the key does not parse; the key is never in a message.
    static Result<std::unique_ptr<TlsServerContext>> create_selecting(const SecretBytes& key_pem,
                                                                      CertificateSelector select);

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
