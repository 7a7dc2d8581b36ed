// cvm broker: the reference cvmkb/1 key broker (tools/broker), and its key tool.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "args.h"
#include "base/file.h"
#include "broker.h"
#include "commands.h"
#include "net/http_server.h"
#include "service.h"
#include "summary.h"
#include "volume_admin.h"

namespace cvm::cli {
namespace {

constexpr const char* USAGE = R"(usage: cvm broker --config FILE
       cvm broker check --config FILE
       cvm broker keygen --out FILE [--force]
       cvm broker pubkey --key FILE
       cvm broker volume reset|recover|show NAME --config FILE

Runs the reference cvmkb/1 key broker: it hands out single-use nonces, verifies each VM's
SEV-SNP report, AMD certificate chain and policy, and releases the secrets and volume keys the
VM's MEASUREMENT may have, sealed to the VM's key (HPKE) and signed with the broker's Ed25519
key. The MEASUREMENTs come from policy.measurements, or from the signed releases of a releases
directory that [[policy.release]] keys vouch for, each accepted until it expires. The protocol
is docs/cvmkb-1.md; the configuration keys are in docs/broker.md.

  --config FILE   broker configuration (TOML)

  check --config FILE   check a configuration and the files it names as the broker would at
                        start, print its policy summary and warnings, and exit; nothing listens
  keygen --out FILE     write a new Ed25519 signing key (PKCS#8 PEM, mode 0600) and print its
                        public key in the form cvminit.broker_key= takes (base64); refuses an
                        existing FILE (the key every measured image pins) unless --force
  pubkey --key FILE     print the public key of an existing signing key
  volume reset NAME --config FILE
                        forget the generation the broker keeps for [[volume]] NAME: the next
                        boot's disk is accepted as it is (after a deliberate restore or a
                        re-provisioning; the broker otherwise refuses an older or blank disk
                        with VOLUME_ROLLBACK)
  volume recover NAME --config FILE
                        arm one release of NAME's recovery key (recovery_key_file): the next
                        attest that releases NAME includes it
  volume show NAME --config FILE
                        print NAME's generation record and whether a recovery is armed
                        The volume commands act on the store of the running broker ([store] or
                        [volumes] state_file); a broker keeping generations in memory has none.

Signals: SIGHUP reloads the configuration, policy, secret files and release bundles (the new
configuration is checked completely, else the running one stays and the error is logged);
SIGTERM and SIGINT finish the requests in progress and exit 0; other signals are logged and
ignored. One line per
attest goes to stderr: the verdict, the reason code, the peer, the MEASUREMENT, what was found
and expected; never a secret value. Evidence from the simulated platform is accepted only with
policy.allow_simulated = true, and says SIMULATED wherever it appears.

exit status: 0 after a clean shutdown or a passing check, 2 usage or configuration error
)";

// How long SIGTERM waits for requests in progress before closing their connections.
constexpr int64_t DRAIN_TIMEOUT_MS = 10'000;

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
    if (args.has("force")) {
        TRY(write_file_atomic(*out, pem.expose(), 0600));
    } else {
        // Written beside FILE, then linked to its name: link() fails if the name exists, even
        // when it appears after a check, so an existing key is never replaced.
        std::string tmp = *out + ".keygen-" + std::to_string(getpid());
        TRY(write_file_atomic(tmp, pem.expose(), 0600));
        int linked = link(tmp.c_str(), out->c_str());
        int saved = errno;
        unlink(tmp.c_str());
        if (linked != 0 && saved == EEXIST)
            return Error::make(Errc::Config,
                               "%s exists: refusing to replace a signing key that images may pin (--force "
                               "replaces it)",
                               out->c_str());
        if (linked != 0)
            return Error::from_errno(Errc::Io, saved, "cannot create %s: %s", out->c_str(), strerror(saved));
    }
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

// What `cvm broker check` prints: the summary and warnings the broker would log at start.
Result<void> check(const std::string& config_path)
{
    broker::BrokerConfig config = TRY(broker::load_broker_config(config_path));
    std::string summary = broker::policy_summary(config, time(nullptr));
    std::vector<std::string> warnings = broker::policy_warnings(config);
    TRY(broker::Broker::create(std::move(config)));  // the checks a start makes beyond parsing
    printf("%s: OK\n%s\n", config_path.c_str(), summary.c_str());
    for (const std::string& w : warnings)
        printf("%s\n", w.c_str());
    return {};
}

// cvm broker volume ACTION NAME --config FILE (volume_admin.h).
Result<void> volume(const std::string& action, const std::string& name, const std::string& config_path)
{
    broker::VolumeAction a;
    if (action == "reset")
        a = broker::VolumeAction::Reset;
    else if (action == "recover")
        a = broker::VolumeAction::Recover;
    else if (action == "show")
        a = broker::VolumeAction::Show;
    else
        return Error::make(Errc::Config, "volume %s: expected reset, recover or show", action.c_str());
    broker::BrokerConfig config = TRY(broker::load_broker_config(config_path));
    auto store = TRY(broker::open_volume_store(config));
    std::string out = TRY(broker::volume_admin(config, *store, a, name, time(nullptr)));
    fputs(out.c_str(), stdout);
    return {};
}

const char* signal_name(int signal)
{
    switch (signal) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGALRM: return "SIGALRM";
    case SIGVTALRM: return "SIGVTALRM";
    case SIGPROF: return "SIGPROF";
    case SIGIO: return "SIGIO";
    case SIGPWR: return "SIGPWR";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGSTKFLT: return "SIGSTKFLT";
    default: return "a real-time signal";
    }
}

// Every signal whose default action would end the process, except those the kernel sends for a
// fault of this process (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP: dying with
// them is right) and SIGKILL/SIGSTOP, which cannot be caught. They are blocked in every thread
// and taken one at a time by sigwait(), so none can end the broker unannounced.
sigset_t handled_signals()
{
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR,
                  SIGXCPU, SIGXFSZ, SIGSTKFLT})
        sigaddset(&set, s);
    for (int s = SIGRTMIN; s <= SIGRTMAX; ++s)
        sigaddset(&set, s);
    return set;
}

Result<void> serve(const std::string& config_path)
{
    broker::BrokerConfig config = TRY(broker::load_broker_config(config_path));
    net::ServerOptions options = config.server;
    std::optional<net::ServerOptions> metrics_options = config.metrics_server;
    bool simulated = config.policy.allow_simulated;

    // Signals are taken synchronously below; every thread started from here inherits the mask.
    // A peer closing its connection early must not kill the broker: writes fail with EPIPE.
    signal(SIGPIPE, SIG_IGN);
    // An inherited SIG_IGN (nohup's SIGHUP, a shell's SIGINT and SIGQUIT for background jobs)
    // would discard a signal before sigwait() sees it: back to the default, which blocking defers.
    sigset_t signals = handled_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    for (int s = 1; s < NSIG; ++s) {
        if (sigismember(&signals, s) == 1)
            signal(s, SIG_DFL);
    }

    // [store]: Redis shared by replicas, else memory; opened once (a reload keeps it).
    auto store = TRY(broker::open_store(config.store ? &*config.store : nullptr, nullptr));
    broker::ServiceOptions service_options;
    service_options.store = store.get();
    service_options.version = CVM_VERSION;
    auto service = TRY(broker::Service::create(config_path, std::move(config), std::move(service_options)));
    broker::Service* s = service.get();
    auto server = TRY(net::HttpServer::start(options, [s](const net::HttpRequest& r) { return s->handle(r); }));
    std::unique_ptr<net::HttpServer> metrics;
    if (metrics_options)
        metrics =
            TRY(net::HttpServer::start(*metrics_options, [s](const net::HttpRequest& r) { return s->handle_ops(r); }));
    fprintf(stderr, "cvm broker: listening on %s://%s:%u, public key %s%s\n", options.tls ? "https" : "http",
            options.address.c_str(), server->port(), proto::ed25519_public_b64(s->broker()->public_key()).c_str(),
            simulated ? "; SIMULATED evidence is accepted (policy.allow_simulated = true)" : "");
    if (metrics)
        fprintf(stderr, "cvm broker: metrics on http://%s:%u/metrics\n", metrics_options->address.c_str(),
                metrics->port());
    int received = 0;
    for (;;) {
        if (sigwait(&signals, &received) != 0)
            continue;
        if (received == SIGINT || received == SIGTERM)
            break;
        if (received == SIGHUP) {
            fprintf(stderr, "cvm broker: SIGHUP, reloading %s\n", config_path.c_str());
            [[maybe_unused]] auto reloaded = s->reload();  // logged either way; the broker runs on
            continue;
        }
        fprintf(stderr, "cvm broker: %s ignored (SIGHUP reloads, SIGTERM or SIGINT stops)\n", signal_name(received));
    }
    fprintf(stderr, "cvm broker: %s, shutting down\n", received == SIGINT ? "SIGINT" : "SIGTERM");
    if (!s->drain(DRAIN_TIMEOUT_MS))
        fprintf(stderr, "cvm broker: requests still running after %lld ms are cut off\n",
                static_cast<long long>(DRAIN_TIMEOUT_MS));
    server->stop();
    if (metrics)
        metrics->stop();
    return {};
}

}  // namespace

int cmd_broker(const std::vector<std::string>& argv)
{
    auto parsed = parse_command(
        "broker", argv,
        {{"config", Takes::Value}, {"out", Takes::Value}, {"key", Takes::Value}, {"force", Takes::Nothing}}, USAGE,
        Positional::Allowed);
    if (const int* status = std::get_if<int>(&parsed))
        return *status;
    const Args& args = std::get<Args>(parsed);
    const auto& words = args.positional();
    Result<void> done;
    if (words.empty() && args.has("config"))
        done = serve(*args.get("config"));
    else if (words.size() == 1 && words[0] == "check" && args.has("config"))
        done = check(*args.get("config"));
    else if (words.size() == 1 && words[0] == "keygen")
        done = keygen(args);
    else if (words.size() == 1 && words[0] == "pubkey")
        done = pubkey(args);
    else if (words.size() == 3 && words[0] == "volume" && args.has("config"))
        done = volume(words[1], words[2], *args.get("config"));
    else
        done = Error::make(Errc::Config, "expected --config FILE, check --config FILE, keygen --out FILE, pubkey --key "
                                         "FILE or volume reset|recover|show NAME --config FILE");
    return done.ok() ? EXIT_OK : fail(done.error());
}

}  // namespace cvm::cli
