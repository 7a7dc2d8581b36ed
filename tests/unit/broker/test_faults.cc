// The broker under faults: KDS down, malformed and oversized requests, slow clients.
#include <doctest.h>
#include <unistd.h>

#include <string>

#include "attest_harness.h"
#include "fake_kds.h"
#include "kds/kds_url.h"
#include "net/http_client.h"
#include "raw_server.h"
#include "snp/report.h"

using namespace cvm;
using namespace cvm::test;

namespace {

net::HttpResponse post(const BrokerHarness& h, const std::string& path, std::string_view body,
                       const std::string& method = "POST")
{
    if (method == "GET")
        return net::http_get(h.url() + path).release_value();
    return net::http_post(h.url() + path, {reinterpret_cast<const uint8_t*>(body.data()), body.size()},
                          {{"Content-Type", "application/json"}})
        .release_value();
}

proto::ErrorCode code_of(const net::HttpResponse& r)
{
    return proto::parse_error(r.body_text()).value().code;
}

// A session whose request carries the ASK and ARK but no VCEK, so the broker must find the VCEK.
Result<proto::Release> attest_without_vcek(BrokerHarness& h, std::optional<proto::ErrorBody>* refusal)
{
    client::Session s = TRY(client::Session::begin(h.client({"db"})));
    auto r = h.report(s.report_data());
    std::vector<Bytes> chain = {simulated_platform().ask_der, simulated_platform().ark_der};
    auto released = s.complete(r.report, chain);
    *refusal = s.last_refusal();
    return released;
}

std::string vcek_target()
{
    auto psp = sim::SimulatedPsp::create(simulated_platform(), good_launch()).release_value();
    auto report = snp::parse_report(psp.get_report({}, 0).release_value()).release_value();
    return kds::vcek_path(kds::vcek_id(report, std::nullopt).release_value());
}

}  // namespace

TEST_CASE("faults: VCEK from KDS, then the stale cache while KDS is down")
{
    auto kds = fakes::FakeKds::start();
    kds->serve(vcek_target(), simulated_platform().vcek_der);
    BrokerFiles shared_cache;  // outlives both brokers
    std::string kds_table = "[kds]\nurl = \"" + kds->base_url() + "\"\ncache_dir = \"" + shared_cache.dir() +
                            "/kds\"\nttl = 0\ntimeout = 2\n";
    std::optional<proto::ErrorBody> refusal;
    {
        BrokerHarness h("", kds_table);
        REQUIRE(attest_without_vcek(h, &refusal).ok());
        REQUIRE(attest_without_vcek(h, &refusal).ok());
        CHECK(kds->requests() == 1);  // the second VCEK came from the broker's memory
        CHECK(h.broker->metrics_text().find("cvmkb_vcek_cache_total{result=\"hit\"} 1") != std::string::npos);
    }
    kds->set_outage(503);
    BrokerHarness restarted("", kds_table);
    auto released = attest_without_vcek(restarted, &refusal);
    REQUIRE_MESSAGE(released.ok(), std::string(released.ok() ? "" : released.error().message()));
    CHECK(restarted.broker->metrics_text().find("cvmkb_kds_fetches_total{source=\"cache-stale\"} 1") !=
          std::string::npos);
}

TEST_CASE("faults: KDS down and nothing cached is KDS_UNAVAILABLE, retryable, nothing released")
{
    auto kds = fakes::FakeKds::start();
    kds->set_outage(503);
    BrokerHarness h("", "[kds]\nurl = \"" + kds->base_url() + "\"\ntimeout = 2\n");
    std::optional<proto::ErrorBody> refusal;
    auto released = attest_without_vcek(h, &refusal);
    REQUIRE_FALSE(released.ok());
    CHECK(released.error().code() == Errc::Unavailable);
    REQUIRE(refusal);
    CHECK(refusal->code == proto::ErrorCode::KdsUnavailable);
    CHECK(refusal->retryable);

    kds->stop();  // refused connections are the same verdict
    released = attest_without_vcek(h, &refusal);
    REQUIRE_FALSE(released.ok());
    CHECK(refusal->code == proto::ErrorCode::KdsUnavailable);
}

TEST_CASE("faults: malformed, oversized and misdirected requests")
{
    BrokerHarness h;
    for (const char* body : {"", "{", "[]", "{\"nonce\":1}", "{\"nonce\":\"AAAA\",\"nonce\":\"AAAA\"}", "null",
                             "{\"nonce\":\"\",\"pubkey\":\"\",\"report\":\"\",\"request\":{}}"}) {
        CAPTURE(body);
        net::HttpResponse r = post(h, "/cvmkb/v1/attest", body);
        CHECK(r.status == 400);
        CHECK(code_of(r) == proto::ErrorCode::BadRequest);
    }
    CHECK(post(h, "/cvmkb/v1/challenge", "{\"x\":1}").status == 400);
    CHECK(post(h, "/cvmkb/v1/challenge", "{}").status == 200);
    CHECK(post(h, "/cvmkb/v1/challenge", "").status == 200);
    net::HttpResponse missing = post(h, "/cvmkb/v1/other", "{}");
    CHECK(missing.status == 404);
    CHECK(code_of(missing) == proto::ErrorCode::NotFound);
    net::HttpResponse get = post(h, "/cvmkb/v1/challenge", "", "GET");
    CHECK(get.status == 405);
    CHECK(post(h, "/cvmkb/v1/attest", std::string(65 * 1024, ' ')).status == 413);
    CHECK(h.broker->metrics_text().find("code=\"BAD_REQUEST\"") != std::string::npos);
}

TEST_CASE("faults: slow senders and readers hold only their own connections")
{
    BrokerHarness h;
    std::vector<UniqueFd> slow;
    for (int i = 0; i < 8; ++i) {  // from another address: one address's slow ones meet its cap (8)
        UniqueFd fd = fakes::loopback_connect_from("127.0.0.2", h.server->port());
        std::string partial = "POST /cvmkb/v1/attest HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{\"no";
        REQUIRE(write(fd.get(), partial.data(), partial.size()) == static_cast<ssize_t>(partial.size()));
        slow.push_back(std::move(fd));
    }
    for (int i = 0; i < 4; ++i) {  // complete requests whose answers are never read
        UniqueFd fd = fakes::loopback_connect(h.server->port());
        std::string full = "POST /cvmkb/v1/challenge HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
        REQUIRE(write(fd.get(), full.data(), full.size()) == static_cast<ssize_t>(full.size()));
        slow.push_back(std::move(fd));
    }
    client::ClientOptions o = h.client({"db"});
    o.http.total_timeout_ms = 3000;  // less than the server's 5 s wait for the slow ones
    client::Session s = client::Session::begin(o).release_value();
    auto r = h.report(s.report_data());
    auto released = s.complete(r.report, r.certs);
    CHECK_MESSAGE(released.ok(), std::string(released.ok() ? "" : released.error().message()));
    slow.clear();  // closes them
}
