// KdsClient::crl against a fake KDS serving AMD's real CRLs: the same cache, TTL, stale fallback
// and offline mode as the certificates, and the CRL's own nextUpdate (checked by the verify
// layer) as the bound on how long a stale copy is any good.
#include <doctest.h>

#include "fake_kds.h"
#include "kds/kds_client.h"
#include "kds_test_util.h"
#include "vectors.h"
#include "verify/crl.h"

using namespace cvm;
using namespace cvm::kds;
using fakes::FakeKds;
using snp::Product;

namespace {

constexpr int64_t TTL = 3600;
constexpr int64_t INSIDE_MILAN_N12 = 1791000000;  // 2026-10-03: thisUpdate 09-22, nextUpdate 11-09

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

struct Fixture {
    std::unique_ptr<FakeKds> kds = FakeKds::start();
    test::ScratchDir cache;
    test::FakeClock clock{INSIDE_MILAN_N12};
    Bytes milan = test::read_vector("snp-reports/amd_crls/milan_vcek_reprobuild-n12.crl");
    Bytes genoa = test::read_vector("snp-reports/amd_crls/genoa_vcek_reprobuild-n11.crl");
    std::string milan_target = kds->serve_crl("Milan", "vcek", milan);

    std::unique_ptr<KdsClient> make(Mode mode = Mode::Online)
    {
        KdsOptions o;
        o.base_url = kds->base_url();
        o.cache_dir = cache.path();
        o.ttl_seconds = TTL;
        o.mode = mode;
        o.clock = &clock;
        o.http.connect_timeout_ms = 1000;
        o.http.io_timeout_ms = 300;
        o.http.total_timeout_ms = 2000;
        auto c = KdsClient::create(o);
        REQUIRE_MESSAGE(c.ok(), message_of(c.error()));
        return c.release_value();
    }
};

}  // namespace

TEST_CASE("a CRL comes from KDS at its product and family's path, then from the cache until the TTL")
{
    Fixture f;
    auto c = f.make();
    auto first = c->crl(Product::Milan, KeyFamily::Vcek);
    REQUIRE_MESSAGE(first.ok(), message_of(first.error()));
    CHECK(first->source == Source::Network);
    CHECK(first->data == f.milan);
    CHECK(first->url == f.kds->base_url() + "/vcek/v1/Milan/crl");
    f.clock.advance(TTL - 1);
    CHECK(c->crl(Product::Milan, KeyFamily::Vcek)->source == Source::CacheFresh);
    CHECK(f.kds->requests_for(f.milan_target) == 1);
    f.clock.advance(1);
    CHECK(c->crl(Product::Milan, KeyFamily::Vcek)->source == Source::Network);
    CHECK(f.kds->requests_for(f.milan_target) == 2);

    // Each product and family is its own object: the Genoa CRL, and no VLEK CRL (404, final).
    f.kds->serve_crl("Genoa", "vcek", f.genoa);
    CHECK(c->crl(Product::Genoa, KeyFamily::Vcek)->data == f.genoa);
    auto vlek = c->crl(Product::Milan, KeyFamily::Vlek);
    REQUIRE_FALSE(vlek.ok());
    CHECK(vlek.error().code() == Errc::Network);
    CHECK(message_of(vlek.error()).find("/vlek/v1/Milan/crl") != std::string::npos);
}

TEST_CASE("KDS down: a stale CRL is served and marked; its nextUpdate decides whether it is any good")
{
    Fixture f;
    auto c = f.make();
    REQUIRE(c->crl(Product::Milan, KeyFamily::Vcek).ok());
    f.clock.advance(TTL + 1);
    f.kds->stop();
    auto stale = c->crl(Product::Milan, KeyFamily::Vcek);
    REQUIRE(stale.ok());
    CHECK(stale->source == Source::CacheStale);
    REQUIRE(stale->refresh_error);
    CHECK(stale->refresh_error->code() == Errc::Unavailable);
    auto crl = verify::Crl::parse(stale->data);
    REQUIRE(crl.ok());
    CHECK(crl.value().current_at(f.clock.now()));
    CHECK(crl.value().next_update() == "2026-11-09T01:00:00Z");
    CHECK_FALSE(crl.value().current_at(crl.value().next_update_time().value() + 1));

    // Offline: the cached copy, however old, and no request.
    auto offline = f.make(Mode::Offline)->crl(Product::Milan, KeyFamily::Vcek);
    REQUIRE(offline.ok());
    CHECK(offline->source == Source::CacheStale);
    CHECK(offline->data == f.milan);
    auto none = f.make(Mode::Offline)->crl(Product::Genoa, KeyFamily::Vcek);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().code() == Errc::Config);
}

TEST_CASE("empty cache and KDS down: Errc::Unavailable naming the CRL's URL")
{
    Fixture f;
    f.kds->set_outage(503);
    auto r = f.make()->crl(Product::Milan, KeyFamily::Vcek);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);
    CHECK(message_of(r.error()).find("/vcek/v1/Milan/crl") != std::string::npos);
    CHECK(message_of(r.error()).find("503") != std::string::npos);
}

TEST_CASE("an oversized or PEM-shaped CRL answer is refused and not cached")
{
    Fixture f;
    f.kds->serve_crl("Milan", "vcek", Bytes(MAX_CRL_SIZE + 1, 0x30));
    auto c = f.make();
    auto big = c->crl(Product::Milan, KeyFamily::Vcek);
    REQUIRE_FALSE(big.ok());
    CHECK(message_of(big.error()).find("over the 1048576 bytes allowed") != std::string::npos);
    std::string pem = "-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n";
    f.kds->serve_crl("Milan", "vcek", Bytes(pem.begin(), pem.end()));
    CHECK_FALSE(c->crl(Product::Milan, KeyFamily::Vcek).ok());
    CHECK(KdsCache::open(f.cache.path())
              .value()
              .load(crl_cache_key(Product::Milan, KeyFamily::Vcek), MAX_CRL_SIZE)
              .value() == std::nullopt);
    f.kds->serve_crl("Milan", "vcek", f.milan);  // KDS recovers: fetched and cached again
    CHECK(c->crl(Product::Milan, KeyFamily::Vcek)->source == Source::Network);
}
