// The broker end to end over loopback: a simulated platform's reports, the agent's client
// session, the broker's verdicts. Every refusal must carry its code and release nothing.
#include <doctest.h>

#include <string>

#include "attest_harness.h"
#include "net/http_client.h"
#include "test_pki.h"

using namespace cvm;
using namespace cvm::test;

namespace {

std::string text_of(const SecretBytes& s)
{
    return {reinterpret_cast<const char*>(s.expose().data()), s.size()};
}

// Runs an attest expected to be refused and returns the error object.
proto::ErrorBody refused(BrokerHarness& h, std::vector<std::string> resources, const sim::LaunchState& launch,
                         uint32_t vmpl = 0)
{
    std::optional<proto::ErrorBody> refusal;
    auto r = h.attest(std::move(resources), launch, vmpl, &refusal);
    REQUIRE_FALSE(r.ok());
    REQUIRE(refusal);
    return *refusal;
}

bool log_has(const BrokerHarness& h, const std::string& needle)
{
    for (const std::string& line : h.log_lines()) {
        if (line.find(needle) != std::string::npos)
            return true;
    }
    return false;
}

}  // namespace

TEST_CASE("attest: the agent gets exactly the resources it asked for, sealed and signed")
{
    BrokerHarness h;
    auto released = h.attest({"db", "token", "data"});
    REQUIRE_MESSAGE(released.ok(), std::string(released.ok() ? "" : released.error().message()));
    REQUIRE(released->secrets.size() == 2);
    CHECK(released->secrets[0].name == "db");
    CHECK(text_of(released->secrets[0].value) == "s3cret-db-password");
    CHECK(released->secrets[0].env == std::optional<std::string>("DB_PASSWORD"));
    CHECK(released->secrets[1].name == "token");
    CHECK(text_of(released->secrets[1].value) == "tok-123");
    CHECK_FALSE(released->secrets[1].env);
    REQUIRE(released->volumes.size() == 1);
    CHECK(released->volumes[0].key.size() == 64);

    auto only_token = h.attest({"token"});
    REQUIRE(only_token.ok());
    CHECK(only_token->secrets.size() == 1);
    CHECK(only_token->volumes.empty());

    // The log says what happened and that the evidence was simulated, never a value.
    CHECK(log_has(h, "attest released code=OK"));
    CHECK(log_has(h, "SIMULATED"));
    CHECK(log_has(h, "resources=db,token,data"));
    for (const std::string& line : h.log_lines()) {
        CHECK(line.find("s3cret") == std::string::npos);
        CHECK(line.find("tok-123") == std::string::npos);
    }
    std::string metrics = h.broker->metrics_text();
    CHECK(metrics.find("cvmkb_attests_total{outcome=\"released\",code=\"OK\",simulated=\"true\"} 2") !=
          std::string::npos);
    CHECK(metrics.find("cvmkb_challenges_total 2") != std::string::npos);
}

TEST_CASE("attest: policy refusals name the code and the claim")
{
    BrokerHarness h("[policy.min_tcb.Genoa]\nbootloader = 0\ntee = 0\nsnp = 0\nmicrocode = 0\n");

    sim::LaunchState other = good_launch();
    other.measurement.fill(0xbb);
    proto::ErrorBody e = refused(h, {"db"}, other);
    CHECK(e.code == proto::ErrorCode::MeasurementMismatch);
    CHECK(e.claim == "policy.measurement");
    CHECK(e.got == OTHER_MEASUREMENT);
    CHECK(e.simulated);
    CHECK_FALSE(e.retryable);

    sim::LaunchState debug = good_launch();
    debug.policy |= 1ull << 19;
    e = refused(h, {"db"}, debug);
    CHECK(e.code == proto::ErrorCode::DebugAllowed);
    CHECK(e.claim == "policy.debug");

    e = refused(h, {"db"}, good_launch(), 1);
    CHECK(e.code == proto::ErrorCode::Vmpl);
    CHECK(e.got == "1");

    e = refused(h, {"nope"}, good_launch());
    CHECK(e.code == proto::ErrorCode::UnknownResource);
    CHECK(e.got == "nope");

    h.files.write("other.secret", "x");
    CHECK(log_has(h, "code=MEASUREMENT_MISMATCH claim=policy.measurement"));
}

TEST_CASE("attest: a TCB below the policy minimum is TCB_TOO_LOW")
{
    BrokerHarness h("[policy.min_tcb.Genoa]\nbootloader = 255\ntee = 0\nsnp = 0\nmicrocode = 0\n");
    proto::ErrorBody e = refused(h, {"db"}, good_launch());
    CHECK(e.code == proto::ErrorCode::TcbTooLow);
    CHECK(e.claim == "policy.min_tcb");
}

TEST_CASE("attest: a resource the measurement may not have is RESOURCE_NOT_ALLOWED")
{
    BrokerHarness h;
    sim::LaunchState c_launch = good_launch();
    c_launch.measurement.fill(0xcc);  // accepted by the policy, listed only for "token"
    REQUIRE(h.attest({"token"}, c_launch).ok());
    proto::ErrorBody e = refused(h, {"token", "db"}, c_launch);
    CHECK(e.code == proto::ErrorCode::ResourceNotAllowed);
    CHECK(e.got == "db");
}

TEST_CASE("attest: simulated evidence without allow_simulated is SIMULATED_NOT_ALLOWED")
{
    BrokerHarness h("", "", false);
    proto::ErrorBody e = refused(h, {"db"}, good_launch());
    CHECK(e.code == proto::ErrorCode::SimulatedNotAllowed);
    CHECK(e.claim == "policy.simulated");
}

TEST_CASE("attest: nonces expire and are single-use")
{
    BrokerHarness h;
    client::Session late = client::Session::begin(h.client({"db"})).release_value();
    h.clock.advance(62);  // lifetime 60, and one more second for a nonce of the store's first second
    auto r = h.report(late.report_data());
    REQUIRE_FALSE(late.complete(r.report, r.certs).ok());
    REQUIRE(late.last_refusal());
    CHECK(late.last_refusal()->code == proto::ErrorCode::NonceExpired);
    CHECK(late.last_refusal()->retryable);

    client::Session once = client::Session::begin(h.client({"db"})).release_value();
    auto r2 = h.report(once.report_data());
    REQUIRE(once.complete(r2.report, r2.certs).ok());
    auto replay = once.complete(r2.report, r2.certs);
    REQUIRE_FALSE(replay.ok());
    CHECK(replay.error().code() == Errc::Policy);
    CHECK(once.last_refusal()->code == proto::ErrorCode::NonceReused);

    client::Session forged = client::Session::begin(h.client({"db"})).release_value();
    proto::AttestRequest req = forged.request(r2.report, r2.certs);
    req.nonce[3] ^= 1;
    auto response =
        net::http_post(h.url() + "/cvmkb/v1/attest",
                       ByteView(reinterpret_cast<const uint8_t*>(proto::serialize_attest_request(req).data()),
                                proto::serialize_attest_request(req).size()),
                       {});
    REQUIRE(response.ok());
    CHECK(response->status == 403);
    CHECK(proto::parse_error(response->body_text()).value().code == proto::ErrorCode::NonceUnknown);
}

TEST_CASE("attest: REPORT_DATA must bind this nonce, this key and this request")
{
    BrokerHarness h;
    auto post = [&](const proto::AttestRequest& req) {
        std::string body = proto::serialize_attest_request(req);
        auto response = net::http_post(h.url() + "/cvmkb/v1/attest",
                                       ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), {});
        REQUIRE(response.ok());
        return response.release_value();
    };

    // A report made for another session's nonce.
    client::Session a = client::Session::begin(h.client({"db"})).release_value();
    client::Session b = client::Session::begin(h.client({"db"})).release_value();
    auto for_b = h.report(b.report_data());
    CHECK_FALSE(a.complete(for_b.report, for_b.certs).ok());
    CHECK(a.last_refusal()->code == proto::ErrorCode::ReportDataMismatch);

    // The right report, but another public key: the answer would be sealed to someone else.
    client::Session c = client::Session::begin(h.client({"db"})).release_value();
    auto for_c = h.report(c.report_data());
    proto::AttestRequest swapped_key = c.request(for_c.report, for_c.certs);
    swapped_key.pubkey[0] ^= 0x40;
    net::HttpResponse r1 = post(swapped_key);
    CHECK(r1.status == 403);
    CHECK(proto::parse_error(r1.body_text()).value().code == proto::ErrorCode::ReportDataMismatch);

    // The right report, but a request for more than the report bound.
    client::Session d = client::Session::begin(h.client({"token"})).release_value();
    auto for_d = h.report(d.report_data());
    proto::AttestRequest more = d.request(for_d.report, for_d.certs);
    more.canonical_request = proto::canonical_request({"token", "db"}).value();
    more.resources = {"token", "db"};
    net::HttpResponse r2 = post(more);
    CHECK(r2.status == 403);
    proto::ErrorBody e = proto::parse_error(r2.body_text()).value();
    CHECK(e.code == proto::ErrorCode::ReportDataMismatch);
    CHECK(e.claim == "report_data");
}

TEST_CASE("attest: a key that cannot receive (a low-order point) is refused, even when bound")
{
    BrokerHarness h;
    client::Session s = client::Session::begin(h.client({"db"})).release_value();
    proto::AttestRequest req = s.request({}, {});
    req.pubkey.fill(0);
    auto signed_report =
        h.report(proto::report_data(s.nonce(), req.pubkey, proto::request_hash(req.canonical_request)));
    req.report = signed_report.report;
    req.certs = signed_report.certs;
    std::string body = proto::serialize_attest_request(req);
    auto response = net::http_post(h.url() + "/cvmkb/v1/attest",
                                   ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), {});
    REQUIRE(response.ok());
    CHECK(response->status == 400);
    proto::ErrorBody e = proto::parse_error(response->body_text()).value();
    CHECK(e.code == proto::ErrorCode::BadRequest);
    CHECK(e.claim == "pubkey");
}

TEST_CASE("attest: the agent refuses an answer signed by another key")
{
    BrokerHarness h;
    client::ClientOptions o = h.client({"db"});
    o.broker_key[0] ^= 1;
    client::Session s = client::Session::begin(o).release_value();
    auto r = h.report(s.report_data());
    auto released = s.complete(r.report, r.certs);
    REQUIRE_FALSE(released.ok());
    CHECK(released.error().code() == Errc::Crypto);
    CHECK(std::string(released.error().message()).find("signature") != std::string::npos);
}

TEST_CASE("attest: over TLS, with the CA the agent trusts")
{
    fakes::TestPki pki;
    fakes::PemIdentity identity = pki.issue("broker", std::string("127.0.0.1"));
    BrokerFiles certs;
    std::string cert = certs.write("tls.crt", identity.cert);
    std::string key = certs.write("tls.key", identity.key);
    std::string ca = certs.write("ca.crt", pki.ca_pem());
    BrokerHarness h("", "[tls]\ncert = \"" + cert + "\"\nkey = \"" + key + "\"\n");
    client::ClientOptions o = h.client({"db"});
    o.broker_url = "https://127.0.0.1:" + std::to_string(h.server->port());
    o.http.ca_file = ca;
    client::Session s = client::Session::begin(o).release_value();
    auto r = h.report(s.report_data());
    auto released = s.complete(r.report, r.certs);
    REQUIRE_MESSAGE(released.ok(), std::string(released.ok() ? "" : released.error().message()));
    CHECK(released->secrets.size() == 1);

    client::ClientOptions plain = h.client({"db"});  // plain HTTP to the TLS port
    plain.http.total_timeout_ms = 3000;
    CHECK_FALSE(client::Session::begin(plain).ok());
}
