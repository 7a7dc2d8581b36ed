// The demo workload's `--ratls-server PORT [SOCKET]` mode: an HTTPS server on 0.0.0.0:PORT that
// proves itself with RA-TLS (ratls/https_server.h). Its P-256 key is made here and never leaves
// the process; each certificate comes from the agent's POST /v1/tls-certificate
// (agent_client.h), bound to the nonce a client sent as SNI (docs/ratls.md "Freshness: the nonce
// in SNI"). Every request is answered with one line naming the workload. Verify it from the host
// with `cvm attest https://HOST:PORT --nonce HEX --policy ...` (forwarded with
// `cvm launch --hostfwd`). Runs until the process is signalled; returns 1 when it cannot start.
#pragma once

namespace cvm::workload {

inline constexpr const char* RATLS_DNS_NAME = "workload.cvminit.internal";

int ratls_serve(const char* port, const char* socket_path);

}  // namespace cvm::workload
