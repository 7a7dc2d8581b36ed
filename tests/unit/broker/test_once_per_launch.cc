// The broker on its Store: a once_per_launch resource goes to one agent key per REPORT_ID, a
// restarted broker does not take back nonces it may have forgotten, and a store that is down
// releases nothing (STORE_UNAVAILABLE, 503, Retry-After) until it returns.
#include <doctest.h>

#include <string>

#include "attest_harness.h"
#include "failing_store.h"
#include "net/http_client.h"
#include "snp/report.h"

using namespace cvm;
using namespace cvm::test;

namespace {

// One launch of the good image: every report it signs carries the same REPORT_ID.
struct Launch {
    sim::SimulatedPsp psp = sim::SimulatedPsp::create(simulated_platform(), good_launch()).release_value();
    std::vector<Bytes> certs = certs_of_table(psp.cert_table());
};

struct Outcome {
    Result<proto::Release> released;
    std::optional<proto::ErrorBody> refusal;
};

// One exchange for `resources` from `launch`, with `key` when given (an agent's retry) or a fresh one.
Outcome attest(const BrokerHarness& h, const Launch& launch, std::vector<std::string> resources,
               const proto::X25519KeyPair* key = nullptr)
{
    auto options = h.client(std::move(resources));
    client::Session s = (key ? client::Session::begin(options, *key) : client::Session::begin(options)).release_value();
    Bytes report = launch.psp.get_report(s.report_data(), 0).release_value();
    Outcome out{s.complete(report, launch.certs), s.last_refusal()};
    return out;
}

std::array<uint8_t, 32> report_id(const Launch& launch)
{
    return snp::parse_report(launch.psp.get_report({}, 0).release_value()).release_value().report_id;
}

bool refused_with(const Outcome& o, proto::ErrorCode code)
{
    return !o.released.ok() && o.refusal && o.refusal->code == code;
}

}  // namespace

TEST_CASE("once per launch: a volume key goes to one key of a launch; the same key again, other launches too")
{
    BrokerHarness h;
    Launch launch;
    auto key = proto::X25519KeyPair::generate();
    Outcome first = attest(h, launch, {"data", "db"}, &key);
    REQUIRE_MESSAGE(first.released.ok(), std::string(first.released.ok() ? "" : first.released.error().message()));
    REQUIRE(first.released->volumes.size() == 1);

    // A workload of the same launch attesting again with its own key: refused, naming the resource.
    Outcome again = attest(h, launch, {"data"});
    REQUIRE(refused_with(again, proto::ErrorCode::AlreadyReleased));
    CHECK(again.refusal->claim == "resource");
    CHECK(again.refusal->got == "data");
    CHECK_FALSE(again.refusal->retryable);
    CHECK(again.released.error().code() == Errc::Policy);
    CHECK(std::string(again.refusal->detail).find("'data'") != std::string::npos);
    CHECK(refused_with(attest(h, launch, {"token", "data"}), proto::ErrorCode::AlreadyReleased));

    // The agent retrying after a lost answer presents the same key: released again.
    Outcome retry = attest(h, launch, {"data"}, &key);
    REQUIRE(retry.released.ok());
    CHECK(retry.released->volumes[0].key.equals(first.released->volumes[0].key));

    // Secrets are not once per launch unless configured: any key of the launch gets them.
    CHECK(attest(h, launch, {"db", "token"}).released.ok());
    // Another launch of the same image is another REPORT_ID.
    Launch second;
    CHECK(attest(h, second, {"data"}).released.ok());

    bool logged = false;
    for (const std::string& line : h.log_lines())
        logged |= line.find("attest refused code=ALREADY_RELEASED claim=resource") != std::string::npos;
    CHECK(logged);
}

TEST_CASE("once per launch: configurable per resource, both ways")
{
    BrokerHarness h;
    std::string text = broker_config_text();
    auto secret = text.find("name = \"db\"");
    auto volume = text.find("name = \"data\"");
    REQUIRE(secret != std::string::npos);
    REQUIRE(volume != std::string::npos);
    text.insert(volume, "once_per_launch = false\n");
    text.insert(secret, "once_per_launch = true\n");
    auto config = broker::parse_broker_config(text, h.files.dir());
    REQUIRE_MESSAGE(config.ok(), std::string(config.ok() ? "" : config.error().message()));
    CHECK(config->secrets[0].once_per_launch);
    CHECK_FALSE(config->secrets[1].once_per_launch);  // the default for a secret
    CHECK_FALSE(config->volumes[0].once_per_launch);

    std::string bad = broker_config_text();
    bad.insert(bad.find("name = \"data\""), "once_per_launch = 1\n");
    auto refused = broker::parse_broker_config(bad, h.files.dir());
    REQUIRE_FALSE(refused.ok());
    CHECK(std::string(refused.error().message()).find("volume[0].once_per_launch") != std::string::npos);
}

TEST_CASE("once per launch: nothing is recorded for an attest refused for another reason")
{
    BrokerHarness h;
    Launch launch;
    CHECK(refused_with(attest(h, launch, {"data", "nope"}), proto::ErrorCode::UnknownResource));
    // A low-order key cannot receive anything: refused at sealing, before any record.
    client::Session s = client::Session::begin(h.client({"data"})).release_value();
    proto::AttestRequest req = s.request({}, launch.certs);
    req.pubkey.fill(0);
    req.report =
        launch.psp.get_report(proto::report_data(s.nonce(), req.pubkey, proto::request_hash(req.canonical_request)), 0)
            .release_value();
    std::string body = proto::serialize_attest_request(req);
    auto response = net::http_post(h.url() + "/cvmkb/v1/attest",
                                   ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), {});
    REQUIRE(response.ok());
    CHECK(proto::parse_error(response->body_text()).value().claim == "pubkey");
    CHECK(attest(h, launch, {"data"}).released.ok());  // the first key that can receive it
}

TEST_CASE("store down: STORE_UNAVAILABLE (503, Retry-After), nothing released, recovery when it returns")
{
    FailingStore store;
    BrokerHarness h("", "", true, &store);
    Launch launch;
    store.set_down(true);
    client::Session s = client::Session::begin(h.client({"db"})).release_value();  // challenges need no store
    Bytes report = launch.psp.get_report(s.report_data(), 0).release_value();
    std::string body = proto::serialize_attest_request(s.request(report, launch.certs));
    auto response = net::http_post(h.url() + "/cvmkb/v1/attest",
                                   ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), {});
    REQUIRE(response.ok());
    CHECK(response->status == 503);
    CHECK(response->headers.get("Retry-After") == std::optional<std::string_view>("1"));
    proto::ErrorBody e = proto::parse_error(response->body_text()).value();
    CHECK(e.code == proto::ErrorCode::StoreUnavailable);
    CHECK(e.claim == "nonce");
    CHECK(e.retryable);
    CHECK(e.detail.find("Connection refused") != std::string::npos);
    // The agent's client takes it as retryable, from the code.
    CHECK(s.accept(response.value()).error().code() == Errc::Unavailable);

    // The store returns: the same request is now accepted, its nonce never having been recorded.
    store.set_down(false);
    auto released = s.complete(report, launch.certs);
    REQUIRE_MESSAGE(released.ok(), std::string(released.ok() ? "" : released.error().message()));
    CHECK(store.failed_calls() == 1);
    std::string metrics = h.broker->metrics_text();
    CHECK(metrics.find("code=\"STORE_UNAVAILABLE\"") != std::string::npos);
}

TEST_CASE("store down: lost between the nonce and the release record, the volume key is not released")
{
    FailingStore store;
    BrokerHarness h("", "", true, &store);
    Launch launch;
    store.fail_after(1);  // the nonce is recorded, the release record is not
    Outcome lost = attest(h, launch, {"db", "data"});
    REQUIRE(refused_with(lost, proto::ErrorCode::StoreUnavailable));
    CHECK(lost.refusal->claim == "resource");
    CHECK(lost.refusal->got == "data");
    CHECK(lost.released.error().code() == Errc::Unavailable);
    auto record = broker::store_keys::release(report_id(launch), "data");
    CHECK_FALSE(store.memory().get(record).value().has_value());
    store.set_down(false);
    CHECK(attest(h, launch, {"data"}).released.ok());  // nothing was recorded for the lost attest's key
    CHECK(store.memory().get(record).value()->size() == proto::X25519_KEY_SIZE);
    CHECK(refused_with(attest(h, launch, {"data"}), proto::ErrorCode::AlreadyReleased));
}

TEST_CASE("restart: with a configured nonce_key and its own store, a broker refuses nonces issued before it")
{
    BrokerHarness h;
    FailingStore shared(&h.clock);  // up all along: a store that outlives brokers, as Redis does
    CHECK_FALSE(shared.remembers_since());
    CHECK(broker::MemoryStore(&h.clock).remembers_since() == h.clock.now());
    Launch launch;
    client::Session s = client::Session::begin(h.client({"db"})).release_value();
    Bytes report = launch.psp.get_report(s.report_data(), 0).release_value();
    std::string body = proto::serialize_attest_request(s.request(report, launch.certs));
    net::HttpRequest request;
    request.method = "POST";
    request.target = std::string(proto::ATTEST_PATH);
    request.body.assign(body.begin(), body.end());
    REQUIRE(s.complete(report, launch.certs).ok());  // the nonce is used on the first broker
    h.clock.advance(5);                              // it dies and is started again

    auto restart = [&](broker::Store* store) {
        auto config = broker::parse_broker_config(
                          broker_config_text("allow_simulated = true\n", simulated_top(h.files)), h.files.dir())
                          .release_value();
        broker::BrokerOptions o;
        o.clock = &h.clock;
        o.store = store;
        o.log = [](const std::string&) {};
        return broker::Broker::create(std::move(config), o).release_value();
    };
    // Its own store forgot the use: the nonce is refused as issued before the restart (retryable).
    net::HttpResponse r = restart(nullptr)->handle(request);
    CHECK(r.status == 403);
    proto::ErrorBody e = proto::parse_error(r.body_text()).value();
    CHECK(e.code == proto::ErrorCode::NonceExpired);
    CHECK(e.detail.find("restarted") != std::string::npos);

    // With a store that outlives it, the record decides: used there is a replay, unused is fine.
    auto replica = restart(&shared);
    REQUIRE(replica->handle(request).status == 200);
    CHECK(proto::parse_error(replica->handle(request).body_text()).value().code == proto::ErrorCode::NonceReused);
    CHECK(proto::parse_error(restart(&shared)->handle(request).body_text()).value().code ==
          proto::ErrorCode::NonceReused);
}
