// The workload API's server (docs/agent-api.md): HTTP/1.1 on the Unix socket
// /run/cvminit/agent.sock, served by net::HttpServer (llhttp, bounded, one thread per connection)
// on threads of PID 1 that inherit its blocked signal mask, so supervise() alone sees SIGCHLD and
// SIGTERM.
//
//   /run/cvminit/      0755 root            made if missing, its mode and owner set either way
//   agent.sock         0600 root            or 0660 root:<group> with [agent_api] group
//
// Bounds: a request is at most MAX_REQUEST_BYTES of headers and MAX_SEAL_BODY of body (the handler
// holds every endpoint but /v1/seal and /v1/unseal to MAX_BODY), MAX_CONCURRENT
// connections are served at once (the next is answered 503 BUSY at accept), a slow client is cut
// off by the header and body deadlines (408), reports are rate limited (ApiLimits, 429).
// Bodies are secret (net::HttpLimits::secret_bodies): reserved whole, never reallocated, and wiped
// with the server's buffers once the answer is written.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "api/workload_api.h"
#include "base/result.h"
#include "net/http_server.h"

namespace cvm::agent::api {

inline constexpr size_t MAX_REQUEST_BYTES = 16 * 1024;
inline constexpr size_t MAX_CONCURRENT = 4;

struct ServerConfig {
    std::string dir = "/run/cvminit";
    std::string socket_name = "agent.sock";
    std::optional<gid_t> group;  // set: the socket is 0660 root:<group>
    ApiLimits limits;
    int64_t io_timeout_ms = 5000;
    size_t max_concurrent = MAX_CONCURRENT;
};

class ApiServer {
public:
    // Makes the directory and the socket and starts serving `api`, which the server keeps.
    // Errors (Errc::Io with errno) name the path and the syscall.
    static Result<std::unique_ptr<ApiServer>> start(const ServerConfig& config, std::unique_ptr<WorkloadApi> api);

    const std::string& socket_path() const { return m_path; }
    void stop() { m_server->stop(); }

private:
    ApiServer() = default;
    std::string m_path;
    std::unique_ptr<WorkloadApi> m_api;
    std::unique_ptr<net::HttpServer> m_server;
};

// What stage_handoff starts: BootInfo from the agent's boot report (Context::report), a fresh
// per-boot issuer key, the API over `gate`, and its server per `config`.
Result<std::unique_ptr<ApiServer>> serve_workload_api(ProviderGate& gate, ByteView boot_report,
                                                      const ServerConfig& config);

// The options net::HttpServer gets for `config` (exposed for tests).
net::ServerOptions server_options(const ServerConfig& config);

}  // namespace cvm::agent::api
