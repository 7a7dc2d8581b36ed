// TLS client streams over mbedTLS 3.6 (TLS 1.2 and 1.3).
//
// The server's certificate is always verified: against the CA bundle in `ca_file` (PEM), for the
// name `host` (also sent as SNI). There is no option to skip verification. Errors are
// Errc::Network naming the peer and mbedTLS's reason (for a certificate, the verification
// flags in words); timeouts are Errc::Unavailable.
//
// Threads: while mbedTLS is built without MBEDTLS_THREADING_C, and since TLS 1.3 keeps PSA crypto
// state process-wide, TLS streams are serialised: each holds a process-wide lock from handshake
// to destruction, so one slow peer delays other https exchanges up to its timeouts. Any other
// code that uses PSA crypto from another thread at the same time is unsafe in that build.
// With MBEDTLS_THREADING_C (and _PTHREAD) the lock compiles away.
#pragma once

#include <memory>
#include <string>

#include "net/io.h"

namespace cvm::net {

inline constexpr const char* DEFAULT_CA_FILE = "/etc/ssl/certs/ca-certificates.crt";

// Runs the handshake on the connected socket `fd` (which the stream then owns).
Result<std::unique_ptr<Stream>> tls_connect(UniqueFd fd, const std::string& host, const std::string& peer,
                                            const std::string& ca_file, const IoTimeouts& timeouts);

}  // namespace cvm::net
