// A small blocking HTTP/1.1 client: one request per connection ("Connection: close"), http://
// over TCP and https:// over mbedTLS (net/tls.h: certificate verification always on).
//
// Any status code is a successful Result: the caller decides what a 404 or 429 means. Failures:
//   Errc::Config       the URL or an outgoing header is invalid, or the CA bundle cannot be read
//   Errc::Unavailable  the peer could not be reached or stopped answering in time: name
//                      resolution failed temporarily, connection refused or reset, a timeout
//   Errc::Network      anything else the peer did wrong: a malformed response (llhttp's reason),
//                      a body over max_body_bytes (refused from Content-Length before it is
//                      read), a TLS failure
// Every message names the peer as host:port and what was being done.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "net/http.h"
#include "net/tls.h"

namespace cvm::net {

struct HttpOptions {
    int64_t connect_timeout_ms = 5000;  // per connection attempt
    int64_t io_timeout_ms = 10000;      // longest wait for the peer to accept or send any byte
    int64_t total_timeout_ms = 30000;   // the whole exchange, name resolution excluded
    HttpLimits limits;                  // response header and body bounds
    std::string ca_file = DEFAULT_CA_FILE;
    // https: the certificate and key presented when the server asks for one (mutual TLS); shared,
    // since options are copied and the key must not be.
    std::shared_ptr<const TlsClientIdentity> client_identity;
};

Result<HttpResponse> http_get(std::string_view url, const HttpOptions& options = {});
// The same with `headers` added as given (e.g. Cookie) after check_outgoing_header(); Host,
// Content-Length, Connection and Transfer-Encoding are the client's own (Errc::Config).
Result<HttpResponse> http_get(std::string_view url, const Headers& headers, const HttpOptions& options);

// Sends `body` with a Content-Length; `headers` are added as given (e.g. Content-Type) after
// check_outgoing_header().
Result<HttpResponse> http_post(std::string_view url, ByteView body, const Headers& headers,
                               const HttpOptions& options = {});

}  // namespace cvm::net
