// The RA-TLS transport end to end over loopback (docs/cvmkb-1.md, "The RA-TLS transport"): an
// https broker asking for client certificates, the agent's session presenting a self-signed
// RA-TLS certificate whose simulated report binds its key to the cvmkb/1 report_data, and every
// way such a certificate can be wrong refused with attest's codes, releasing nothing.
#include <doctest.h>

#include <ctime>
#include <string>

#include <mbedtls/x509_crt.h>

#include "attest_harness.h"
#include "client/ratls_credential.h"
#include "net/http_client.h"
#include "proto/tags.h"
#include "ratls/ratls.h"
#include "test_pki.h"

using namespace cvm;
using namespace cvm::test;

namespace {

// A BrokerHarness serving https with a test CA's certificate for 127.0.0.1.
struct RatlsBroker {
    explicit RatlsBroker(const std::string& extra_policy = "")
    {
        fakes::PemIdentity id = pki.issue("broker", std::string("127.0.0.1"));
        std::string cert = tls.write("tls.crt", id.cert);
        std::string key = tls.write("tls.key", id.key);
        ca = tls.write("ca.crt", pki.ca_pem());
        h = std::make_unique<BrokerHarness>(extra_policy, "[tls]\ncert = \"" + cert + "\"\nkey = \"" + key + "\"\n");
    }

    client::ClientOptions client(std::vector<std::string> resources) const
    {
        client::ClientOptions o = h->client(std::move(resources));
        o.broker_url = "https://127.0.0.1:" + std::to_string(h->server->port());
        o.http.ca_file = ca;
        return o;
    }

    client::Session session(std::vector<std::string> resources) const
    {
        auto s = client::Session::begin(client(std::move(resources)));
        REQUIRE_MESSAGE(s.ok(), std::string(s.ok() ? "" : s.error().message()));
        return s.release_value();
    }

    // The agent's certificate for `s`, as stage attest makes it.
    std::shared_ptr<const net::TlsClientIdentity> identity(const client::Session& s,
                                                           const sim::LaunchState& launch = good_launch()) const
    {
        client::RatlsCredential c = client::RatlsCredential::create(s.report_data()).release_value();
        BrokerHarness::SignedReport r = h->report(c.report_data(), launch);
        return c.certify(r.report, r.certs, "simulated", std::time(nullptr)).release_value();
    }

    fakes::TestPki pki;
    BrokerFiles tls;
    std::string ca;
    std::unique_ptr<BrokerHarness> h;
};

// A self-signed certificate for a fresh key whose evidence claims `binding` and `nonce` and
// whose report carries `report_data(spki)`: the ways a certificate can bind something else.
std::shared_ptr<const net::TlsClientIdentity>
crafted(const BrokerHarness& h, std::string_view binding, ByteView nonce,
        const std::function<proto::ReportData(ByteView spki)>& report_data)
{
    auto key = ratls::KeyPair::generate().release_value();
    BrokerHarness::SignedReport r = h.report(report_data(key->spki_der()));
    ratls::EvidenceSet set;
    set.subject = {r.report, r.certs, std::string(binding), Bytes(nonce.begin(), nonce.end()), "simulated", {}};
    auto id = std::make_shared<net::TlsClientIdentity>();
    std::time_t now = std::time(nullptr);
    id->cert_der = key->issue({}, "crafted", {}, set, now - 60, now + 3600).release_value();
    id->key_pem = key->private_key_pem().release_value();
    return id;
}

Bytes bytes_of(const proto::ReportData& d)
{
    return Bytes(d.begin(), d.end());
}

// Runs complete_ratls() expecting a refusal, and returns its error object.
proto::ErrorBody refused(client::Session& s, std::shared_ptr<const net::TlsClientIdentity> id)
{
    auto r = s.complete_ratls(std::move(id));
    REQUIRE_FALSE(r.ok());
    REQUIRE_MESSAGE(s.last_refusal(), std::string(r.error().message()));
    return *s.last_refusal();
}

// Sends `request` as it is (not as a session would) presenting `id`, expecting a refusal.
proto::ErrorBody post_refused(const RatlsBroker& b, const proto::AttestRatlsRequest& request,
                              std::shared_ptr<const net::TlsClientIdentity> id)
{
    net::HttpOptions o = b.client({}).http;
    o.client_identity = std::move(id);
    std::string body = proto::serialize_attest_ratls_request(request);
    auto answer = net::http_post(b.client({}).broker_url + std::string(proto::ATTEST_RATLS_PATH), as_bytes(body),
                                 {{"Content-Type", "application/json"}}, o);
    REQUIRE(answer.ok());
    auto e = proto::parse_error(answer->body_text());
    REQUIRE_MESSAGE(e.ok(), answer->body_text());
    return e.release_value();
}

bool log_has(const BrokerHarness& h, const std::string& needle)
{
    for (const std::string& line : h.log_lines()) {
        if (line.find(needle) != std::string::npos)
            return true;
    }
    return false;
}

std::string text_of(const SecretBytes& s)
{
    return {reinterpret_cast<const char*>(s.expose().data()), s.size()};
}

}  // namespace

TEST_CASE("attest-ratls: the agent's certificate over mutual TLS gets the resources, sealed and signed")
{
    RatlsBroker b;
    client::Session s = b.session({"db", "data"});
    auto released = s.complete_ratls(b.identity(s));
    REQUIRE_MESSAGE(released.ok(), std::string(released.ok() ? "" : released.error().message()));
    REQUIRE(released->secrets.size() == 1);
    CHECK(text_of(released->secrets[0].value) == "s3cret-db-password");
    REQUIRE(released->volumes.size() == 1);
    CHECK(released->volumes[0].key.size() == 64);
    CHECK(log_has(*b.h, "attest released code=OK"));
    CHECK(log_has(*b.h, "transport=ratls"));

    // The same broker still serves the cvmkb/1 transport: evidence in the body, no certificate.
    client::Session plain = b.session({"token"});
    auto r = b.h->report(plain.report_data());
    auto body_released = plain.complete(r.report, r.certs);
    REQUIRE_MESSAGE(body_released.ok(), std::string(body_released.ok() ? "" : body_released.error().message()));
    std::string metrics = b.h->broker->metrics_text();
    CHECK(metrics.find("cvmkb_attests_total{outcome=\"released\",code=\"OK\",simulated=\"true\"} 2") !=
          std::string::npos);
}

TEST_CASE("attest-ratls: without a client certificate, or over plain HTTP, it is BAD_REQUEST")
{
    RatlsBroker b;
    client::Session s = b.session({"db"});
    // A session sends no certificate when given none; the TLS handshake allows that.
    proto::ErrorBody e = refused(s, nullptr);
    CHECK(e.code == proto::ErrorCode::BadRequest);
    CHECK(e.claim == "client_certificate");
    CHECK(e.got == "none");

    // The agent's client refuses to send it over plain HTTP at all...
    BrokerHarness plain_broker;
    client::Session p = client::Session::begin(plain_broker.client({"db"})).release_value();
    auto r = p.complete_ratls(b.identity(p));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Config);
    CHECK_FALSE(p.last_refusal());
    // ...and a broker without TLS has no certificate to look at.
    net::Headers json{{"Content-Type", "application/json"}};
    std::string body = proto::serialize_attest_ratls_request(p.ratls_request());
    auto answer = net::http_post(plain_broker.url() + std::string(proto::ATTEST_RATLS_PATH), as_bytes(body), json);
    REQUIRE(answer.ok());
    CHECK(answer->status == 400);
    CHECK(answer->body_text().find("\"client_certificate\"") != std::string::npos);
}

TEST_CASE("attest-ratls: a certificate that is not RA-TLS, or issued by another key, is BAD_REQUEST")
{
    RatlsBroker b;
    client::Session s = b.session({"db"});
    fakes::PemIdentity ordinary = b.pki.issue("an ordinary client");  // from the CA the broker's own is from
    auto id = std::make_shared<net::TlsClientIdentity>();
    std::string pem = ordinary.cert;
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    REQUIRE(mbedtls_x509_crt_parse(&crt, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1) == 0);
    id->cert_der.assign(crt.raw.p, crt.raw.p + crt.raw.len);
    mbedtls_x509_crt_free(&crt);
    id->key_pem = SecretBytes::copy_of(as_bytes(ordinary.key));
    proto::ErrorBody e = refused(s, id);
    CHECK(e.code == proto::ErrorCode::BadRequest);
    CHECK(e.claim == "client_certificate");
    CHECK(e.detail.find("not an RA-TLS certificate") != std::string::npos);

    // A nonce refused at this step is not used up (docs/cvmkb-1.md §5 step 1): the same session
    // then succeeds with its proper certificate.
    auto released = s.complete_ratls(b.identity(s));
    REQUIRE_MESSAGE(released.ok(), std::string(released.ok() ? "" : released.error().message()));
}

TEST_CASE("attest-ratls: a certificate bound to another nonce, key or request is REPORT_DATA_MISMATCH")
{
    RatlsBroker b;
    SUBCASE("made for another session's nonce")
    {
        client::Session other = b.session({"db"});
        client::Session s = b.session({"db"});
        proto::ErrorBody e = refused(s, b.identity(other));
        CHECK(e.code == proto::ErrorCode::ReportDataMismatch);
        CHECK(e.claim == "report_data");
        CHECK(e.got == to_hex(other.report_data()));
        CHECK(e.expected == std::vector<std::string>{to_hex(s.report_data())});
    }
    SUBCASE("made for another request: the body asks for more than the evidence covers")
    {
        client::Session s = b.session({"db"});
        proto::AttestRatlsRequest greedy = s.ratls_request();  // same nonce and key
        greedy.resources = {"db", "data"};
        greedy.canonical_request = proto::canonical_request(greedy.resources).value();
        proto::ErrorBody e = post_refused(b, greedy, b.identity(s));
        CHECK(e.code == proto::ErrorCode::ReportDataMismatch);
        CHECK(e.got == to_hex(s.report_data()));
    }
    SUBCASE("made for another X25519 key: the answer would be sealed to a key the evidence does not name")
    {
        client::Session s = b.session({"db"});
        proto::AttestRatlsRequest swapped = s.ratls_request();
        swapped.pubkey = proto::X25519KeyPair::generate().public_key();
        CHECK(post_refused(b, swapped, b.identity(s)).code == proto::ErrorCode::ReportDataMismatch);
    }
    SUBCASE("the evidence names this request but its report binds another TLS key")
    {
        client::Session s = b.session({"db"});
        auto other_key = ratls::KeyPair::generate().release_value();
        auto id = crafted(*b.h, proto::RATLS_BROKER_TAG, bytes_of(s.report_data()),
                          [&](ByteView) { return proto::ratls_broker(other_key->spki_der(), s.report_data()); });
        proto::ErrorBody e = refused(s, id);
        CHECK(e.code == proto::ErrorCode::ReportDataMismatch);
        CHECK(e.detail.find("client certificate's key") != std::string::npos);
    }
    SUBCASE("a report with the plain cvmkb/1 binding (attest's evidence) in a certificate")
    {
        client::Session s = b.session({"db"});
        auto id = crafted(*b.h, proto::RATLS_BROKER_TAG, bytes_of(s.report_data()),
                          [&](ByteView) { return s.report_data(); });
        CHECK(refused(s, id).code == proto::ErrorCode::ReportDataMismatch);
    }
    CHECK_FALSE(log_has(*b.h, "code=OK"));
}

TEST_CASE("attest-ratls: a workload's RA-TLS certificate never unlocks the agent's resources")
{
    RatlsBroker b;
    client::Session s = b.session({"data"});
    Bytes nonce = bytes_of(s.report_data());  // the workload may choose any 64-byte nonce, this one too
    SUBCASE("honestly labelled: the workload binding over its key and the cvmkb/1 report_data")
    {
        auto id = crafted(*b.h, proto::WORKLOAD_RATLS_TAG, nonce,
                          [&](ByteView spki) { return proto::workload_ratls(spki, nonce); });
        proto::ErrorBody e = refused(s, id);
        CHECK(e.code == proto::ErrorCode::ReportDataMismatch);
        CHECK(e.got == proto::WORKLOAD_RATLS_TAG);
        CHECK(e.expected == std::vector<std::string>{std::string(proto::RATLS_BROKER_TAG)});
    }
    SUBCASE("relabelled as the agent's binding: the report still says workload")
    {
        auto id = crafted(*b.h, proto::RATLS_BROKER_TAG, nonce,
                          [&](ByteView spki) { return proto::workload_ratls(spki, nonce); });
        proto::ErrorBody e = refused(s, id);
        CHECK(e.code == proto::ErrorCode::ReportDataMismatch);
        CHECK(e.claim == "report_data");
    }
    SUBCASE("the agent's per-boot key binding")
    {
        auto id = crafted(*b.h, proto::AGENT_KEY_TAG, {}, [&](ByteView spki) { return proto::agent_key(spki); });
        CHECK(refused(s, id).code == proto::ErrorCode::ReportDataMismatch);
    }
    CHECK_FALSE(log_has(*b.h, "code=OK"));
}

TEST_CASE("attest-ratls: a nonce is single-use across both transports")
{
    RatlsBroker b;
    client::Session s = b.session({"db"});
    auto id = b.identity(s);
    REQUIRE(s.complete_ratls(id).ok());
    proto::ErrorBody e = refused(s, id);  // the same certificate and body again
    CHECK(e.code == proto::ErrorCode::NonceReused);

    client::Session t = b.session({"db"});
    auto r = b.h->report(t.report_data());
    REQUIRE(t.complete(r.report, r.certs).ok());                             // used by attest...
    CHECK(refused(t, b.identity(t)).code == proto::ErrorCode::NonceReused);  // ...so not by attest-ratls
}

TEST_CASE("attest-ratls: the policy and the resources decide as for attest")
{
    RatlsBroker b("[policy.min_tcb.Genoa]\nbootloader = 0\ntee = 0\nsnp = 0\nmicrocode = 0\n");
    sim::LaunchState other = good_launch();
    other.measurement.fill(0xbb);
    client::Session s = b.session({"db"});
    proto::ErrorBody e = refused(s, b.identity(s, other));
    CHECK(e.code == proto::ErrorCode::MeasurementMismatch);
    CHECK(e.claim == "policy.measurement");
    CHECK(e.got == OTHER_MEASUREMENT);
    CHECK(e.simulated);

    sim::LaunchState debug = good_launch();
    debug.policy |= 1ull << 19;
    client::Session d = b.session({"db"});
    CHECK(refused(d, b.identity(d, debug)).code == proto::ErrorCode::DebugAllowed);

    client::Session u = b.session({"nope"});
    e = refused(u, b.identity(u));
    CHECK(e.code == proto::ErrorCode::UnknownResource);
    CHECK(e.got == "nope");
    CHECK(log_has(*b.h, "code=MEASUREMENT_MISMATCH claim=policy.measurement"));
}

TEST_CASE("attest-ratls: simulated evidence needs allow_simulated, as for attest")
{
    fakes::TestPki pki;
    RatlsBroker b;  // allow_simulated = true
    client::Session s = b.session({"db"});
    REQUIRE(s.complete_ratls(b.identity(s)).ok());

    fakes::PemIdentity id = pki.issue("broker", std::string("127.0.0.1"));
    BrokerFiles files;
    std::string cert = files.write("tls.crt", id.cert);
    std::string key = files.write("tls.key", id.key);
    BrokerHarness strict("", "[tls]\ncert = \"" + cert + "\"\nkey = \"" + key + "\"\n", false);
    client::ClientOptions o = strict.client({"db"});
    o.broker_url = "https://127.0.0.1:" + std::to_string(strict.server->port());
    o.http.ca_file = files.write("ca.crt", pki.ca_pem());
    client::Session t = client::Session::begin(o).release_value();
    client::RatlsCredential c = client::RatlsCredential::create(t.report_data()).release_value();
    BrokerHarness::SignedReport r = strict.report(c.report_data());
    proto::ErrorBody e = refused(t, c.certify(r.report, r.certs, "simulated", std::time(nullptr)).release_value());
    CHECK(e.code == proto::ErrorCode::SimulatedNotAllowed);
}

TEST_CASE("attest-ratls: volume states are judged as for attest")
{
    // A protected volume besides the fixture's (its [[volume]] table follows the policy's keys).
    RatlsBroker b("[[volume]]\nname = \"vault\"\nkey_file = \"data.key\"\nmeasurements = [\"" +
                  std::string(GOOD_MEASUREMENT) + "\"]\n");
    auto session = [&](std::vector<proto::VolumeReport> volumes) {
        client::ClientOptions o = b.client({"vault"});
        o.volumes = std::move(volumes);
        auto s = client::Session::begin(o);
        REQUIRE(s.ok());
        return s.release_value();
    };
    client::Session first = session({{"vault", proto::VolumeState::Blank, 0, ""}});
    auto released = first.complete_ratls(b.identity(first));
    REQUIRE_MESSAGE(released.ok(), std::string(released.ok() ? "" : released.error().message()));
    CHECK(log_has(*b.h, "volumes=vault:blank:0 transport=ratls"));
    // Another launch with a blank disk: the broker knows generation 1.
    client::Session zeroed = session({{"vault", proto::VolumeState::Blank, 0, ""}});
    proto::ErrorBody e = refused(zeroed, b.identity(zeroed));
    CHECK(e.code == proto::ErrorCode::VolumeRollback);
    CHECK(e.claim == "volume.generation");
    CHECK(e.got == "vault blank");
    client::Session none = session({});
    CHECK(refused(none, b.identity(none)).code == proto::ErrorCode::ResourceNotAllowed);
    client::Session next = session({{"vault", proto::VolumeState::Ready, 1, "0f6e3c1a-2b4d-4e5f-8a9b-0c1d2e3f4a5b"}});
    CHECK(next.complete_ratls(b.identity(next)).ok());
    client::Session old = session({{"vault", proto::VolumeState::Ready, 1, "0f6e3c1a-2b4d-4e5f-8a9b-0c1d2e3f4a5b"}});
    CHECK(refused(old, b.identity(old)).code == proto::ErrorCode::VolumeRollback);
}
