// The running broker service: reloads that swap a complete new generation or keep the old one,
// restart-only settings, the nonce key kept across reloads, the operations endpoints, draining,
// and the store's metrics. Attests go over loopback with the simulated platform's reports.
#include <doctest.h>

#include <string>

#include "attest_harness.h"
#include "base/file.h"
#include "failing_store.h"
#include "service.h"
#include "summary.h"

using namespace cvm;
using namespace cvm::test;

namespace {

std::string text_of(const SecretBytes& s)
{
    return {reinterpret_cast<const char*>(s.expose().data()), s.size()};
}

std::string body_of(const net::HttpResponse& r)
{
    return {r.body.begin(), r.body.end()};
}

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

// A service on a configuration file in a BrokerFiles directory, its cvmkb/1 endpoints on loopback.
struct ServiceFixture {
    explicit ServiceFixture(const std::string& extra_top = "", bool with_nonce_key = true)
    {
        top = simulated_top(files) + "metrics_listen = \"127.0.0.1:0\"\n" + extra_top;
        write_config(top, with_nonce_key);
        auto config = broker::load_broker_config(path());
        REQUIRE_MESSAGE(config.ok(), std::string(config.ok() ? "" : config.error().message()));
        broker::ServiceOptions options;
        options.store = &store;
        options.clock = &clock;
        options.version = "1.2.3-test";
        options.log = [this](const std::string& line) {
            std::lock_guard lock(m_mutex);
            m_log.push_back(line);
        };
        auto created = broker::Service::create(path(), config.release_value(), std::move(options));
        REQUIRE_MESSAGE(created.ok(), std::string(created.ok() ? "" : created.error().message()));
        service = created.release_value();
        broker::Service* s = service.get();
        server = net::HttpServer::start(net::ServerOptions{}, [s](const net::HttpRequest& r) {
                     return s->handle(r);
                 }).release_value();
    }
    ~ServiceFixture() { server->stop(); }

    std::string path() const { return files.dir() + "/broker.toml"; }

    void write_config(const std::string& extra_top, bool with_nonce_key = true, const std::string& extra_policy = "")
    {
        std::string text = broker_config_text("allow_simulated = true\n" + extra_policy, extra_top);
        if (!with_nonce_key)
            text.replace(text.find("nonce_key = \"nonce.key\"\n"), 24, "");
        files.write("broker.toml", text);
    }

    client::ClientOptions client(std::vector<std::string> resources) const
    {
        client::ClientOptions o;
        o.broker_url = "http://127.0.0.1:" + std::to_string(server->port());
        o.broker_key = service->broker()->public_key();
        o.resources = std::move(resources);
        return o;
    }

    // One whole attest; the "db" secret's value, or the refusal's code.
    std::string attest_db()
    {
        auto session = client::Session::begin(client({"db"}));
        REQUIRE(session.ok());
        return finish(session.value());
    }

    std::string finish(client::Session& session)
    {
        auto psp = sim::SimulatedPsp::create(simulated_platform(), good_launch()).release_value();
        Bytes report = psp.get_report(session.report_data(), 0).release_value();
        auto released = session.complete(std::move(report), certs_of_table(psp.cert_table()));
        if (!released)
            return session.last_refusal() ? std::string(proto::error_code_name(session.last_refusal()->code))
                                          : std::string(released.error().message());
        return text_of(released->secrets.at(0).value);
    }

    net::HttpResponse ops(const std::string& method, const std::string& target)
    {
        net::HttpRequest r;
        r.method = method;
        r.target = target;
        r.peer = "127.0.0.1:1";
        return service->handle_ops(r);
    }

    bool logged(const std::string& needle) const
    {
        std::lock_guard lock(m_mutex);
        for (const std::string& line : m_log) {
            if (contains(line, needle))
                return true;
        }
        return false;
    }

    BrokerFiles files;
    FakeClock clock;
    FailingStore store;
    std::string top;
    std::unique_ptr<broker::Service> service;
    std::unique_ptr<net::HttpServer> server;

private:
    mutable std::mutex m_mutex;
    std::vector<std::string> m_log;
};

}  // namespace

TEST_CASE("service: a reload swaps in the new secret values and counts the generation")
{
    ServiceFixture f;
    CHECK(f.service->generation() == 1);
    CHECK(f.attest_db() == "s3cret-db-password");
    std::string metrics = f.service->metrics_text();
    CHECK(contains(metrics, "cvm_broker_config_generation 1\n"));
    CHECK(contains(metrics, "cvm_broker_build_info{version=\"1.2.3-test\"} 1\n"));
    CHECK(f.logged("configuration generation 1 from " + f.path() + "; policy: accepts 2 measurements"));
    CHECK(f.logged("WARNING: policy.allow_simulated = true"));

    std::shared_ptr<broker::Broker> first = f.service->broker();
    f.files.write("db.secret", "rotated-password");
    auto reloaded = f.service->reload();
    REQUIRE_MESSAGE(reloaded.ok(), std::string(reloaded.ok() ? "" : reloaded.error().message()));
    CHECK(reloaded.value() == 2);
    CHECK(f.service->generation() == 2);
    CHECK(f.service->broker() != first);
    CHECK(f.attest_db() == "rotated-password");
    metrics = f.service->metrics_text();
    CHECK(contains(metrics, "cvm_broker_config_generation 2\n"));
    CHECK(contains(metrics, "cvm_broker_reloads_total{result=\"ok\"} 1\n"));
    // Counters kept across the reload: both attests are counted.
    CHECK(contains(metrics, "cvmkb_attests_total{outcome=\"released\",code=\"OK\",simulated=\"true\"} 2\n"));
    CHECK(f.logged("reloaded, now configuration generation 2"));
}

TEST_CASE("service: a configuration that fails any startup check keeps the running generation")
{
    ServiceFixture f;
    SUBCASE("unparseable")
    {
        f.files.write("broker.toml", "listen = \n");
    }
    SUBCASE("a resource for a measurement the policy does not accept")
    {
        f.write_config(f.top + "\n[[secret]]\nname = \"x\"\nvalue = \"v\"\nmeasurements = [\"" + OTHER_MEASUREMENT +
                       "\"]\n");
    }
    SUBCASE("a secret file that is gone")
    {
        REQUIRE(unlink((f.files.dir() + "/db.secret").c_str()) == 0);
    }
    SUBCASE("a signing key that does not parse")
    {
        f.files.write("broker.key", "not a key");
    }
    SUBCASE("allow_simulated without the simulated root")
    {
        f.write_config("metrics_listen = \"127.0.0.1:0\"\n");
    }
    auto reloaded = f.service->reload();
    REQUIRE_FALSE(reloaded.ok());
    CHECK(f.service->generation() == 1);
    CHECK(f.logged("reload failed, keeping configuration generation 1: " + std::string(reloaded.error().message())));
    CHECK(contains(f.service->metrics_text(), "cvm_broker_reloads_total{result=\"failed\"} 1\n"));
    CHECK(contains(f.service->metrics_text(), "cvm_broker_config_generation 1\n"));
    f.files.write("db.secret", "s3cret-db-password");  // the secret-file case: what the old generation holds
    CHECK(f.attest_db() == "s3cret-db-password");
}

TEST_CASE("service: settings that need a restart make a reload fail, naming each one")
{
    ServiceFixture f;
    std::string expected;
    SUBCASE("listen")
    {
        f.write_config(f.top);
        std::string text = read_text_file(f.path(), 1 << 20).release_value();
        text.replace(text.find("127.0.0.1:0"), 11, "127.0.0.1:8443");
        f.files.write("broker.toml", text);
        expected = "listen changed";
    }
    SUBCASE("metrics_listen and max_connections")
    {
        f.write_config(simulated_top(f.files) + "metrics_listen = \"[::1]:0\"\nmax_connections = 7\n");
        expected = "metrics_listen, max_connections changed";
    }
    SUBCASE("the store")
    {
        f.write_config(f.top + "[store]\nurl = \"redis://127.0.0.1:1/0\"\n");
        expected = "store changed";
    }
    SUBCASE("the per-peer cap and the header deadline")
    {
        f.write_config(f.top + "max_connections_per_peer = 3\nheader_timeout_ms = 900\n");
        expected = "max_connections_per_peer, header_timeout_ms changed";
    }
    SUBCASE("tls and max_request_bytes")
    {
        f.write_config(f.top + "max_request_bytes = 8192\n[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n");
        expected = "tls, max_request_bytes changed";
    }
    auto reloaded = f.service->reload();
    REQUIRE_FALSE(reloaded.ok());
    CHECK_MESSAGE(contains(std::string(reloaded.error().message()), expected), reloaded.error().message());
    CHECK(contains(std::string(reloaded.error().message()), "only on a restart"));
    CHECK(f.service->generation() == 1);
}

TEST_CASE("service: without nonce_key, nonces issued before a reload stay valid after it")
{
    ServiceFixture f("", false);
    auto session = client::Session::begin(f.client({"db"}));
    REQUIRE(session.ok());
    REQUIRE(f.service->reload().ok());
    CHECK(f.finish(session.value()) == "s3cret-db-password");
    CHECK(f.logged("nonce key generated at start"));
}

TEST_CASE("service: a reload that drops nonce_key gets a generated key, kept by later reloads")
{
    ServiceFixture f;
    f.write_config(f.top, false);
    REQUIRE(f.service->reload().ok());
    auto session = client::Session::begin(f.client({"db"}));
    REQUIRE(session.ok());
    REQUIRE(f.service->reload().ok());
    CHECK(f.finish(session.value()) == "s3cret-db-password");
    CHECK(f.service->generation() == 3);
}

TEST_CASE("service: operations endpoints")
{
    ServiceFixture f;
    CHECK(f.ops("GET", "/healthz").status == 200);
    auto ready = f.ops("GET", "/readyz");
    CHECK(ready.status == 200);
    CHECK(contains(body_of(ready), "ready: configuration generation 1, store redis://127.0.0.1:1/0"));
    f.store.set_down(true);
    ready = f.ops("GET", "/readyz");
    CHECK(ready.status == 503);
    CHECK(contains(body_of(ready), "not ready: store redis://127.0.0.1:1/0: connect: Connection refused"));
    CHECK(f.ops("GET", "/healthz").status == 200);  // alive, just not ready
    f.store.set_down(false);
    auto metrics = f.ops("GET", "/metrics");
    CHECK(metrics.status == 200);
    CHECK(contains(body_of(metrics), "cvm_broker_store_requests_total{op=\"ping\",result=\"error\"} 1\n"));
    CHECK(contains(body_of(metrics), "cvm_broker_store_requests_total{op=\"ping\",result=\"ok\"} 1\n"));
    CHECK(contains(body_of(metrics), "cvm_broker_store_duration_seconds_count 2\n"));  // the two pings
    CHECK(f.ops("GET", "/nope").status == 404);
    CHECK(f.ops("POST", "/metrics").status == 405);
    CHECK(f.ops("GET", "/-/reload").status == 405);

    auto refused = f.ops("POST", "/-/reload");  // reload_endpoint is off by default
    CHECK(refused.status == 403);
    CHECK(contains(body_of(refused), "reload_endpoint = false"));
    CHECK(f.service->generation() == 1);

    f.write_config(f.top + "reload_endpoint = true\n");
    REQUIRE(f.service->reload().ok());  // turned on by a SIGHUP reload
    auto reloaded = f.ops("POST", "/-/reload");
    CHECK(reloaded.status == 200);
    CHECK(body_of(reloaded) == "reloaded: configuration generation 3\n");
    f.files.write("broker.toml", "listen = 1\n");
    auto failed = f.ops("POST", "/-/reload");
    CHECK(failed.status == 422);
    CHECK(contains(body_of(failed), "reload failed, configuration generation 3 kept: "));
}

TEST_CASE("service: store calls are timed, and a store failure is counted as an error")
{
    ServiceFixture f;
    CHECK(f.attest_db() == "s3cret-db-password");
    std::string metrics = f.service->metrics_text();
    CHECK(contains(metrics, "cvm_broker_store_requests_total{op=\"set_if_absent\",result=\"ok\"} 1\n"));
    f.store.set_down(true);
    CHECK(f.attest_db() != "s3cret-db-password");
    f.store.set_down(false);
    CHECK(contains(f.service->metrics_text(),
                   "cvm_broker_store_requests_total{op=\"set_if_absent\",result=\"error\"} 1\n"));
}

TEST_CASE("service: after drain() begins, new requests get 503 and drain returns once idle")
{
    ServiceFixture f;
    CHECK(f.service->drain(1000));
    net::HttpRequest r;
    r.method = "POST";
    r.target = "/cvmkb/v1/challenge";
    auto answer = f.service->handle(r);
    CHECK(answer.status == 503);
    CHECK(answer.headers.get("Retry-After") == std::optional<std::string_view>("1"));
    CHECK(f.ops("GET", "/readyz").status == 503);
}

TEST_CASE("restart_only_changes: identical settings are not a change")
{
    broker::RestartSettings a;
    a.server.address = "127.0.0.1";
    a.server.port = 8443;
    CHECK(broker::restart_only_changes(a, a).empty());
    broker::RestartSettings b = a;
    b.server.tls = net::TlsServerFiles{"c", "k"};
    CHECK(broker::restart_only_changes(a, b) == "tls");
    b = a;
    b.server.port = 8444;
    CHECK(broker::restart_only_changes(a, b) == "listen");
    b = a;
    b.metrics_server.emplace();
    CHECK(broker::restart_only_changes(a, b) == "metrics_listen");
    a.store = b.store = "redis://10.0.0.1:6379/0 user=- ca= name= timeout=1000 pool=16";
    a.store_password = std::make_shared<const SecretBytes>(SecretBytes::copy_of(from_hex("01").value()));
    b = a;
    CHECK(broker::restart_only_changes(a, b).empty());
    b.store_password = std::make_shared<const SecretBytes>(SecretBytes::copy_of(from_hex("02").value()));
    CHECK(broker::restart_only_changes(a, b) == "store");
    b.store_password = nullptr;
    CHECK(broker::restart_only_changes(a, b) == "store");
}
