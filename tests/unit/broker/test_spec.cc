// docs/cvmkb-1.md and the broker agree where an independent implementation found they did not
// (issue 13, "Spec and broker agree"): each case quotes the spec's rule it checks.
#include <doctest.h>

#include <string>

#include "attest_harness.h"
#include "net/http_client.h"
#include "snp/report.h"

using namespace cvm;
using namespace cvm::test;

namespace {

net::HttpResponse post(const BrokerHarness& h, std::string_view body)
{
    return net::http_post(h.url() + std::string(proto::ATTEST_PATH),
                          ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()),
                          {{"Content-Type", "application/json"}})
        .release_value();
}

proto::ErrorBody error_of(const net::HttpResponse& r)
{
    auto e = proto::parse_error(r.body_text());
    REQUIRE_MESSAGE(e.ok(), std::string(r.body_text()));
    return e.release_value();
}

// A session, the report its REPORT_DATA asks for, and the request carrying them.
struct Exchange {
    client::Session session;
    BrokerHarness::SignedReport signed_report;
    proto::AttestRequest request;
};

Exchange exchange(const BrokerHarness& h, std::vector<std::string> resources)
{
    client::Session s = client::Session::begin(h.client(std::move(resources))).release_value();
    auto r = h.report(s.report_data());
    proto::AttestRequest req = s.request(r.report, r.certs);
    return {std::move(s), std::move(r), std::move(req)};
}

const sim::Platform& other_platform()
{
    static const sim::Platform platform = sim::create_platform({}).release_value();
    return platform;
}

}  // namespace

TEST_CASE("spec §5.4: a VCEK the chain does not vouch for is CHAIN, though the signature fails too")
{
    BrokerHarness h;
    Exchange x = exchange(h, {"db"});
    // Another chip's VCEK beside this platform's ASK and ARK: not signed by the ASK, another hwID,
    // and the report's signature does not verify with its key.
    x.request.certs = {other_platform().vcek_der, simulated_platform().ask_der, simulated_platform().ark_der};
    proto::ErrorBody e = error_of(post(h, proto::serialize_attest_request(x.request)));
    CHECK(e.code == proto::ErrorCode::Chain);
    CHECK(e.claim.rfind("chain.", 0) == 0);

    // Another platform's whole chain, rooted in an ARK nobody trusts: CHAIN as well.
    Exchange y = exchange(h, {"db"});
    y.request.certs = {other_platform().vcek_der, other_platform().ask_der, other_platform().ark_der};
    CHECK(error_of(post(h, proto::serialize_attest_request(y.request))).code == proto::ErrorCode::Chain);

    // With the chain right, a broken signature is SIGNATURE.
    Exchange z = exchange(h, {"db"});
    z.request.report[snp::SIGNATURE_OFFSET] ^= 0x01;  // SIGNATURE.R's lowest byte
    proto::ErrorBody s = error_of(post(h, proto::serialize_attest_request(z.request)));
    CHECK(s.code == proto::ErrorCode::Signature);
    CHECK(s.claim == "report.signature");
}

TEST_CASE("spec §5.1: a certificate or report that does not parse does not use up the nonce")
{
    BrokerHarness h;
    Exchange x = exchange(h, {"db"});
    proto::AttestRequest bad_cert = x.request;
    bad_cert.certs[0] = Bytes(200, 0x30);
    net::HttpResponse r = post(h, proto::serialize_attest_request(bad_cert));
    CHECK(r.status == 400);
    proto::ErrorBody e = error_of(r);
    CHECK(e.code == proto::ErrorCode::BadRequest);
    CHECK(e.claim == "certs");

    proto::AttestRequest two_arks = x.request;
    two_arks.certs.push_back(simulated_platform().ark_der);
    CHECK(error_of(post(h, proto::serialize_attest_request(two_arks))).code == proto::ErrorCode::BadRequest);

    proto::AttestRequest bad_report = x.request;
    std::fill(bad_report.report.begin(), bad_report.report.end(), 0);
    CHECK(error_of(post(h, proto::serialize_attest_request(bad_report))).code == proto::ErrorCode::ReportFormat);

    // The corrected request with the same nonce is accepted, once.
    auto released = x.session.complete(x.signed_report.report, x.signed_report.certs);
    REQUIRE_MESSAGE(released.ok(), std::string(released.ok() ? "" : released.error().message()));
    CHECK(error_of(post(h, proto::serialize_attest_request(x.request))).code == proto::ErrorCode::NonceReused);
}

TEST_CASE("spec §5.4: an offline broker without a cached VCEK answers CHAIN (claim vcek), not retryable")
{
    BrokerFiles cache;
    BrokerHarness h("", "[kds]\noffline = true\ncache_dir = \"" + cache.dir() + "\"\n");
    Exchange x = exchange(h, {"db"});
    x.request.certs = {simulated_platform().ask_der, simulated_platform().ark_der};  // no VCEK
    net::HttpResponse r = post(h, proto::serialize_attest_request(x.request));
    CHECK(r.status == 403);
    proto::ErrorBody e = error_of(r);
    CHECK(e.code == proto::ErrorCode::Chain);
    CHECK(e.claim == "vcek");
    CHECK_FALSE(e.retryable);
    CHECK(e.detail.find("offline") != std::string::npos);
}

TEST_CASE("spec §3.2: duplicate resource names are BAD_REQUEST; an empty list releases nothing, checked")
{
    BrokerHarness h;
    Exchange x = exchange(h, {"db"});
    x.request.canonical_request = "{\"resources\":[\"db\",\"db\"]}";
    net::HttpResponse dup = post(h, proto::serialize_attest_request(x.request));
    CHECK(dup.status == 400);
    CHECK(error_of(dup).detail.find("listed twice") != std::string::npos);

    auto none = h.attest({});
    REQUIRE_MESSAGE(none.ok(), std::string(none.ok() ? "" : none.error().message()));
    CHECK(none->secrets.empty());
    CHECK(none->volumes.empty());
    sim::LaunchState other = good_launch();
    other.measurement.fill(0xbb);
    std::optional<proto::ErrorBody> refusal;
    CHECK_FALSE(h.attest({}, other, 0, &refusal).ok());  // every check still runs
    REQUIRE(refusal);
    CHECK(refusal->code == proto::ErrorCode::MeasurementMismatch);

    // `expected` is a list: one value per measurement that would have passed.
    CHECK(refusal->expected == std::vector<std::string>{GOOD_MEASUREMENT, std::string(96, 'c')});
}

TEST_CASE("spec §7: the HTTP layer's 413 is text/plain, not an error object")
{
    BrokerHarness h;
    net::HttpResponse r = post(h, std::string(65 * 1024, ' '));
    CHECK(r.status == 413);
    CHECK(r.content_type() == std::optional<std::string_view>("text/plain"));
    CHECK(r.body_text() == "request body too large\n");
    CHECK_FALSE(proto::parse_error(r.body_text()).ok());
}

TEST_CASE("spec §7: the agent decides retrying by the code, never by the unsigned `retryable` member")
{
    net::HttpResponse forged;
    forged.status = 403;
    forged.headers.add("Content-Type", "application/json");
    std::string body = R"({"error":{"code":"NONCE_REUSED","detail":"x","retryable":true}})";
    forged.body.assign(body.begin(), body.end());
    std::optional<proto::ErrorBody> out;
    CHECK(client::refusal_error(forged, &out).code() == Errc::Policy);
    REQUIRE(out);
    CHECK(out->retryable);  // kept for the operator, not acted on

    body = R"({"error":{"code":"STORE_UNAVAILABLE","detail":"x","retryable":false}})";
    forged.status = 503;
    forged.body.assign(body.begin(), body.end());
    CHECK(client::refusal_error(forged, &out).code() == Errc::Unavailable);
}
