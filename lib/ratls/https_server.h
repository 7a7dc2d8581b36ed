// An HTTPS server that proves itself with RA-TLS certificates (docs/ratls.md "Freshness: the
// nonce in SNI"): the workload's server, which asks the agent for its certificates.
//
// Each handshake gets a certificate for the server's one key pair:
//   - a client that sent a nonce as its SNI (ratls/sni_nonce.h) gets a certificate from
//     `source(nonce)`, made for that handshake and never reused: its evidence binds the nonce;
//   - any other client (no SNI, or an ordinary host name) gets the certificate without a nonce,
//     `source({})`, fetched once and reused for HttpsServerOptions::unbound_reuse_seconds;
//   - an SNI with the nonce suffix that is not a valid nonce ends the handshake with an
//     unrecognized_name alert, and a failing source with internal_error (said on stderr, since
//     the client cannot be told more).
// A nonce handshake costs one fresh report: the agent API bounds how often one is made, and
// ServerOptions bounds connections and their time, the handshake included.
#pragma once

#include <functional>
#include <memory>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"
#include "net/http_server.h"

namespace cvm::ratls {

// A certificate (DER or PEM) for the server's public key whose subject evidence binds `nonce`
// (empty: no nonce). In the VM: the agent API's POST /v1/tls-certificate; in tests: one made
// from simulated evidence. Called on connection threads, possibly concurrently.
using CertificateSource = std::function<Result<Bytes>(ByteView nonce)>;

struct HttpsServerOptions {
    net::ServerOptions http;              // address, port, limits; tls and tls_context must be unset
    int64_t unbound_reuse_seconds = 600;  // how long the certificate without a nonce is reused
};

// Starts `handler` over HTTPS with the private key `key_pem` (PEM, unencrypted; every
// certificate `source` returns must be for its public key, or that handshake fails).
// Errc::Config for a key that does not parse or options with their own TLS; else as
// net::HttpServer::start.
Result<std::unique_ptr<net::HttpServer>> start_https_server(HttpsServerOptions options, const SecretBytes& key_pem,
                                                            CertificateSource source, net::HttpHandler handler);

}  // namespace cvm::ratls
