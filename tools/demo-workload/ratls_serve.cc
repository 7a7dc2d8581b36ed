#include "ratls_serve.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent_client.h"
#include "ratls/https_server.h"

namespace cvm::workload {

namespace {

int fail(const char* what, const Error& e)
{
    printf("demo-workload: ratls server: %s: %.*s\n", what, static_cast<int>(e.message().size()), e.message().data());
    fflush(stdout);
    return 1;
}

}  // namespace

int ratls_serve(const char* port_text, const char* socket_path)
{
    char* end = nullptr;
    long port = strtol(port_text, &end, 10);
    if (*port_text == '\0' || *end != '\0' || port < 1 || port > 65535) {
        printf("demo-workload: ratls server: port %s: expected 1 to 65535\n", port_text);
        return 1;
    }
    auto key = generate_p256_key();
    if (!key.ok())
        return fail("making the key", key.error());
    // The certificate without a nonce is fetched now, so that a server the agent cannot serve
    // says so at once instead of at its first client.
    auto source = agent_certificate_source(socket_path, key.value().public_key_pem, {RATLS_DNS_NAME});
    auto first = source(ByteView());
    if (!first.ok())
        return fail("asking the agent for a certificate", first.error());

    ratls::HttpsServerOptions options;
    options.http.address = "0.0.0.0";
    options.http.port = static_cast<uint16_t>(port);
    auto handler = [](const net::HttpRequest& r) {
        std::string body = "hello from the cvminit demo workload over RA-TLS (" + r.method + " " + r.target + ")\n";
        return net::HttpResponse{200, {{"Content-Type", "text/plain"}}, Bytes(body.begin(), body.end())};
    };
    auto server = ratls::start_https_server(options, key.value().private_key_pem, source, handler);
    if (!server.ok())
        return fail("starting", server.error());
    printf("demo-workload: ratls server: listening on port %u with an RA-TLS certificate from the agent\n",
           server.value()->port());
    fflush(stdout);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    int sig = 0;
    sigwait(&set, &sig);
    printf("demo-workload: ratls server: stopping on signal %d\n", sig);
    return 0;
}

}  // namespace cvm::workload
