// cvm broker: the reference cvmkb/1 key broker (tools/broker), and its key tool.
#include <csignal>
#include <cstdio>

#include "args.h"
#include "base/file.h"
#include "broker.h"
#include "commands.h"
#include "net/http_server.h"

namespace cvm::cli {
namespace {

constexpr const char* USAGE = R"(usage: cvm broker --config FILE
       cvm broker keygen --out FILE
       cvm broker pubkey --key FILE

Runs the reference cvmkb/1 key broker: it hands out single-use nonces, verifies each VM's
SEV-SNP report, AMD certificate chain and policy, and releases the secrets and volume keys the
VM's MEASUREMENT may have, sealed to the VM's key (HPKE) and signed with the broker's Ed25519
key. The protocol is docs/cvmkb-1.md; the configuration keys are in docs/broker.md.

  --config FILE   broker configuration (TOML)

  keygen --out FILE   write a new Ed25519 signing key (PKCS#8 PEM, mode 0600) and print its
                      public key in the form cvminit.broker_key= takes (base64)
  pubkey --key FILE   print the public key of an existing signing key

The broker runs until SIGINT or SIGTERM. One line per attest goes to stderr: the verdict, the
reason code, the peer, the MEASUREMENT; never a secret value. Evidence from the simulated
platform is accepted only with policy.allow_simulated = true, and says SIMULATED wherever it
appears.

exit status: 0 after a clean shutdown, 2 usage or configuration error
)";

int fail(const Error& e)
{
    return usage_failure("broker", e);
}

Result<void> keygen(const Args& args)
{
    auto out = args.get("out");
    if (!out)
        return Error::make(Errc::Config, "keygen needs --out FILE");
    proto::Ed25519KeyPair key = proto::Ed25519KeyPair::generate();
    SecretBytes pem = proto::ed25519_private_pem(key);
    TRY(write_file_atomic(*out, pem.expose(), 0600));
    printf("%s\n", proto::ed25519_public_b64(key.public_key()).c_str());
    return {};
}

Result<void> pubkey(const Args& args)
{
    auto path = args.get("key");
    if (!path)
        return Error::make(Errc::Config, "pubkey needs --key FILE");
    SecretBytes pem = TRY(read_secret_file(*path, 4096));
    auto key =
        TRY_PREFIX(proto::parse_ed25519_private_pem({reinterpret_cast<const char*>(pem.expose().data()), pem.size()}),
                   "%s", path->c_str());
    printf("%s\n", proto::ed25519_public_b64(key.public_key()).c_str());
    return {};
}

net::HttpResponse metrics_response(const broker::Broker& broker, const net::HttpRequest& request)
{
    net::HttpResponse r;
    if (request.target != "/metrics") {
        r.status = 404;
        return r;
    }
    r.status = 200;
    r.headers.add("Content-Type", "text/plain; version=0.0.4");
    std::string text = broker.metrics_text();
    r.body.assign(text.begin(), text.end());
    return r;
}

Result<void> serve(const std::string& config_path)
{
    broker::BrokerConfig config = TRY(broker::load_broker_config(config_path));
    net::ServerOptions options = config.server;
    std::optional<net::ServerOptions> metrics_options = config.metrics_server;
    bool simulated = config.policy.allow_simulated;

    // Signals are taken synchronously below; every thread started from here inherits the mask.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    // [store]: Redis shared by replicas, else memory; it must outlive the broker.
    auto store = TRY(broker::open_store(config.store ? &*config.store : nullptr, nullptr));
    broker::BrokerOptions broker_options;
    broker_options.store = store.get();
    auto broker = TRY(broker::Broker::create(std::move(config), std::move(broker_options)));
    broker::Broker* b = broker.get();
    auto server = TRY(net::HttpServer::start(options, [b](const net::HttpRequest& r) { return b->handle(r); }));
    std::unique_ptr<net::HttpServer> metrics;
    if (metrics_options)
        metrics = TRY(net::HttpServer::start(*metrics_options,
                                             [b](const net::HttpRequest& r) { return metrics_response(*b, r); }));
    fprintf(stderr, "cvm broker: listening on %s://%s:%u, public key %s%s\n", options.tls ? "https" : "http",
            options.address.c_str(), server->port(), proto::ed25519_public_b64(b->public_key()).c_str(),
            simulated ? "; SIMULATED evidence is accepted (policy.allow_simulated = true)" : "");
    if (metrics)
        fprintf(stderr, "cvm broker: metrics on http://%s:%u/metrics\n", metrics_options->address.c_str(),
                metrics->port());
    int signal = 0;
    sigwait(&stop, &signal);
    fprintf(stderr, "cvm broker: %s, shutting down\n", signal == SIGINT ? "SIGINT" : "SIGTERM");
    server->stop();
    if (metrics)
        metrics->stop();
    return {};
}

}  // namespace

int cmd_broker(const std::vector<std::string>& argv)
{
    auto parsed =
        parse_command("broker", argv, {{"config", Takes::Value}, {"out", Takes::Value}, {"key", Takes::Value}}, USAGE,
                      Positional::Allowed);
    if (const int* status = std::get_if<int>(&parsed))
        return *status;
    const Args& args = std::get<Args>(parsed);
    const auto& words = args.positional();
    Result<void> done;
    if (words.empty() && args.has("config"))
        done = serve(*args.get("config"));
    else if (words.size() == 1 && words[0] == "keygen")
        done = keygen(args);
    else if (words.size() == 1 && words[0] == "pubkey")
        done = pubkey(args);
    else
        done = Error::make(Errc::Config, "expected --config FILE, keygen --out FILE or pubkey --key FILE");
    return done.ok() ? EXIT_OK : fail(done.error());
}

}  // namespace cvm::cli
