// Revocation in the broker (broker.h, vcek_source.h): the broker's own CRL in every verification —
// the simulated platform's for simulated evidence, AMD's from KDS through the Store for the rest —
// and how each failure is answered: a revoked or expired CRL as CHAIN (403) with the claim's found
// and expected, KDS down with no current copy as KDS_UNAVAILABLE (503, retryable).
#include <doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "attest_harness.h"
#include "fake_kds.h"
#include "proto/errors.h"
#include "sim/crl.h"
#include "vcek_source.h"
#include "vectors.h"
#include "verify/certificate.h"
#include "verify/crl.h"

using namespace cvm;
using namespace cvm::broker;

namespace {

// A real AMD CRL (KDS /vcek/v1/Milan/crl, CRL number 12): thisUpdate 2026-09-22, nextUpdate
// 2026-11-09 01:00 UTC.
const std::string MILAN_CRL = "snp-reports/amd_crls/milan_vcek_reprobuild-n12.crl";

int64_t next_update_of(const Bytes& crl)
{
    return verify::Crl::parse(crl).value().next_update_time().value();
}

// KDS serving AMD's Milan CRL, a store shared by "replicas", and a clock ten days before the
// CRL's nextUpdate.
struct CrlFixture {
    std::unique_ptr<fakes::FakeKds> kds = fakes::FakeKds::start();
    Bytes crl = test::read_vector(MILAN_CRL);
    test::FakeClock clock;
    MemoryStore store{&clock};
    Metrics metrics;
    std::string target = kds->serve_crl("Milan", "vcek", crl);

    CrlFixture() { clock.advance(next_update_of(crl) - 10 * 24 * 3600 - clock.now()); }

    std::unique_ptr<VcekSource> replica()
    {
        return std::make_unique<VcekSource>(test::kds_client(kds->base_url(), clock), store, metrics, clock);
    }
    bool counted(const std::string& series) const { return metrics.render({}).find(series) != std::string::npos; }
};

proto::ErrorBody refusal_of(test::BrokerHarness& h)
{
    std::optional<proto::ErrorBody> refusal;
    auto r = h.attest({"db"}, test::good_launch(), 0, &refusal);
    REQUIRE_FALSE(r.ok());
    REQUIRE(refusal);
    return *refusal;
}

bool logged(const test::BrokerHarness& h, const std::string& part)
{
    for (const std::string& line : h.log_lines()) {
        if (line.find(part) != std::string::npos)
            return true;
    }
    return false;
}

Bytes simulated_crl_with(sim::CrlOptions options)
{
    return sim::make_crl(test::simulated_platform(), options).release_value();
}

}  // namespace

TEST_CASE("revocation: AMD's CRL from KDS is kept in the Store, and a second replica on it asks KDS nothing")
{
    CrlFixture f;
    auto first = f.replica();
    CrlAnswer a = first->crl_for(snp::Product::Milan, kds::KeyFamily::Vcek);
    REQUIRE(a.ok());
    CHECK(*a.crl == f.crl);
    CHECK(f.kds->requests_for(f.target) == 1);
    CHECK(f.counted("cvmkb_crl_fetches_total{source=\"network\"} 1"));

    auto second = f.replica();  // another process: its own KDS client, the same store
    CrlAnswer b = second->crl_for(snp::Product::Milan, kds::KeyFamily::Vcek);
    REQUIRE(b.ok());
    CHECK(*b.crl == f.crl);
    CHECK(f.kds->requests_for(f.target) == 1);
    CHECK(f.counted("cvmkb_crl_cache_total{result=\"hit\"} 1"));

    // Another product or family is another CRL: KDS has none here (404), a chain failure.
    CrlAnswer vlek = second->crl_for(snp::Product::Milan, kds::KeyFamily::Vlek);
    CHECK_FALSE(vlek.ok());
    CHECK(vlek.refusal == VcekRefusal::NotFound);
}

TEST_CASE("revocation: concurrent look-ups of one CRL make one KDS request")
{
    CrlFixture f;
    auto source = f.replica();
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] { ok += source->crl_for(snp::Product::Milan, kds::KeyFamily::Vcek).ok() ? 1 : 0; });
    for (auto& t : threads)
        t.join();
    CHECK(ok == 8);
    CHECK(f.kds->requests_for(f.target) == 1);
}

TEST_CASE("revocation: KDS down — a stored CRL past its TTL is used until its nextUpdate, then KDS_UNAVAILABLE")
{
    CrlFixture f;
    REQUIRE(f.replica()->crl_for(snp::Product::Milan, kds::KeyFamily::Vcek).ok());
    f.clock.advance(VcekSourceOptions{}.cache_ttl_seconds + 60);  // stale, and still 9 days before nextUpdate
    f.kds->set_outage(503);
    auto replica = f.replica();
    CrlAnswer stale = replica->crl_for(snp::Product::Milan, kds::KeyFamily::Vcek);
    REQUIRE(stale.ok());
    CHECK(*stale.crl == f.crl);
    CHECK(f.kds->requests() == 2);  // KDS was asked first
    CHECK(f.counted("cvmkb_crl_fetches_total{source=\"cache-stale\"} 1"));

    f.clock.advance(10 * 24 * 3600);  // past nextUpdate: no usable copy is left
    CrlAnswer none = replica->crl_for(snp::Product::Milan, kds::KeyFamily::Vcek);
    REQUIRE_FALSE(none.ok());
    CHECK(none.refusal == VcekRefusal::KdsUnavailable);
    CHECK(none.retry_after > 0);
    CHECK(std::string(none.error.message()).find("no current Milan vcek CRL") != std::string::npos);
}

TEST_CASE("revocation: a stored CRL past its nextUpdate is fetched again, even within the TTL")
{
    CrlFixture f;
    f.clock.advance(10 * 24 * 3600 - 3600);  // an hour before nextUpdate
    auto source = f.replica();
    REQUIRE(source->crl_for(snp::Product::Milan, kds::KeyFamily::Vcek).ok());
    f.clock.advance(2 * 3600);  // within the 24 h TTL, past nextUpdate
    REQUIRE(source->crl_for(snp::Product::Milan, kds::KeyFamily::Vcek).ok());
    CHECK(f.kds->requests_for(f.target) == 2);
}

TEST_CASE("revocation: a revoked simulated ASK is refused as CHAIN with the claim's found and expected")
{
    sim::CrlOptions revoking;
    revoking.revoked = {sim::SIM_ASK_SERIAL};
    Bytes crl = simulated_crl_with(revoking);
    test::BrokerHarness h("", "", true, nullptr, &crl);
    proto::ErrorBody refusal = refusal_of(h);
    CHECK(refusal.code == proto::ErrorCode::Chain);
    CHECK(proto::http_status(refusal.code) == 403);
    CHECK_FALSE(refusal.retryable);
    CHECK(refusal.claim == "chain.revocation");
    CHECK_FALSE(refusal.got.empty());
    CHECK_FALSE(refusal.expected.empty());
    CHECK(refusal.simulated);
    CHECK(logged(h, "code=CHAIN claim=chain.revocation found=\""));
}

TEST_CASE("revocation: an expired simulated CRL is refused as CHAIN; a current one releases")
{
    sim::CrlOptions expired;
    test::FakeClock clock;  // the harness's clock starts where this one does
    expired.this_update = clock.now() - 10 * 24 * 3600;
    expired.next_update = clock.now() - 24 * 3600;
    Bytes old = simulated_crl_with(expired);
    test::BrokerHarness h("", "", true, nullptr, &old);
    proto::ErrorBody refusal = refusal_of(h);
    CHECK(refusal.code == proto::ErrorCode::Chain);
    CHECK(refusal.claim == "chain.revocation");

    test::BrokerHarness current;
    CHECK(current.attest({"db"}).ok());
}

TEST_CASE("revocation: policy revocation = false releases even under a revoking CRL, and says so at start")
{
    sim::CrlOptions revoking;
    revoking.revoked = {sim::SIM_ASK_SERIAL};
    Bytes crl = simulated_crl_with(revoking);
    test::BrokerHarness h("revocation = false\n", "", true, nullptr, &crl);
    CHECK(h.attest({"db"}).ok());
}

TEST_CASE("revocation: AMD-rooted evidence takes the CRL from KDS; KDS down with none stored is KDS_UNAVAILABLE")
{
    // Evidence that names no simulated root (its certificates are only the VCEK) is AMD's as far
    // as the broker can tell: the CRL comes from KDS for the report's product (Genoa here).
    auto kds = fakes::FakeKds::start();
    std::string target = kds->serve_crl("Genoa", "vcek", test::simulated_crl());
    kds->set_outage(503);
    test::BrokerHarness h("", "[kds]\nurl = \"" + kds->base_url() + "\"\ntimeout = 2\n");
    auto attest_vcek_only = [&](test::BrokerHarness& b) {
        auto session = client::Session::begin(b.client({"db"})).release_value();
        test::BrokerHarness::SignedReport r = b.report(session.report_data());
        std::vector<Bytes> vcek_only;
        for (const Bytes& der : r.certs) {
            if (!verify::Certificate::parse(der).value().is_ca())
                vcek_only.push_back(der);
        }
        REQUIRE(vcek_only.size() == 1);
        (void)session.complete(r.report, vcek_only);
        REQUIRE(session.last_refusal());
        return *session.last_refusal();
    };
    proto::ErrorBody down = attest_vcek_only(h);
    CHECK(down.code == proto::ErrorCode::KdsUnavailable);
    CHECK(down.retryable);
    CHECK(down.claim == "chain.revocation");

    // KDS back: the CRL is fetched once and kept in the store a second replica shares. (The
    // verdict is CHAIN either way: a simulated VCEK does not chain to AMD's ASK.)
    kds->set_outage(0);
    const size_t asked_in_outage = kds->requests_for(target);
    MemoryStore shared;
    test::BrokerHarness one("", "[kds]\nurl = \"" + kds->base_url() + "\"\ntimeout = 2\n", true, &shared);
    test::BrokerHarness two("", "[kds]\nurl = \"" + kds->base_url() + "\"\ntimeout = 2\n", true, &shared);
    CHECK(attest_vcek_only(one).code == proto::ErrorCode::Chain);
    CHECK(attest_vcek_only(two).code == proto::ErrorCode::Chain);
    CHECK(kds->requests_for(target) == asked_in_outage + 1);
}
