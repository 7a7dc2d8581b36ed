#include "api/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cvm::agent::api {
namespace {

// /run/cvminit as 0755 root:root whatever was there: the workload has not started yet, so nothing
// but the agent can have made it, but its mode must not depend on the umask.
Result<void> make_socket_dir(const std::string& dir)
{
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return Error::from_errno(Errc::Io, errno, "mkdir %s: %s", dir.c_str(), strerror(errno));
    struct stat st {};
    if (lstat(dir.c_str(), &st) != 0)
        return Error::from_errno(Errc::Io, errno, "stat %s: %s", dir.c_str(), strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return Error::make(Errc::Io, "%s exists and is not a directory", dir.c_str());
    if (chmod(dir.c_str(), 0755) != 0)
        return Error::from_errno(Errc::Io, errno, "chmod 0755 %s: %s", dir.c_str(), strerror(errno));
    return {};
}

}  // namespace

net::ServerOptions server_options(const ServerConfig& config)
{
    net::ServerOptions options;
    net::UnixSocketOptions socket;
    socket.path = config.dir + "/" + config.socket_name;
    socket.mode = config.group ? 0660 : 0600;
    socket.group = config.group;
    options.unix_socket = socket;
    options.io_timeout_ms = config.io_timeout_ms;
    options.header_timeout_ms = config.io_timeout_ms;
    options.request_timeout_ms = 3 * config.io_timeout_ms;
    options.max_connections = config.max_concurrent;
    options.max_connections_per_peer = 0;  // every client is the workload: one peer
    options.limits.max_header_bytes = MAX_REQUEST_BYTES;
    options.limits.max_headers = 32;
    options.limits.max_body_bytes = MAX_SEAL_BODY;  // per endpoint: WorkloadApi::handle
    options.limits.secret_bodies = true;            // /v1/seal's plaintext, /v1/unseal's answer
    options.refusal = json_refusal;
    return options;
}

Result<std::unique_ptr<ApiServer>> ApiServer::start(const ServerConfig& config, std::unique_ptr<WorkloadApi> api)
{
    TRY(make_socket_dir(config.dir));
    std::unique_ptr<ApiServer> server(new ApiServer);
    server->m_api = std::move(api);
    net::ServerOptions options = server_options(config);
    server->m_path = options.unix_socket->path;
    WorkloadApi* handler = server->m_api.get();
    server->m_server = TRY(net::HttpServer::start(
        options, [handler](const net::HttpRequest& request) { return handler->handle(request); }));
    return server;
}

Result<std::unique_ptr<ApiServer>> serve_workload_api(ProviderGate& gate, ByteView boot_report,
                                                      const ServerConfig& config)
{
    BootInfo info = TRY(boot_info_from_report(boot_report, gate.provider_name()));
    auto issuer = TRY(AgentIssuer::create(gate));
    return ApiServer::start(config,
                            std::make_unique<WorkloadApi>(gate, std::move(info), std::move(issuer), config.limits));
}

}  // namespace cvm::agent::api
