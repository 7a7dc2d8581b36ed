#include <doctest.h>

#include <chrono>
#include <string>
#include <sys/stat.h>

#include "base/file.h"
#include "fake_kds.h"
#include "kds/kds_client.h"
#include "kds_test_util.h"
#include "raw_server.h"
#include "snp/report.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::kds;
using fakes::FakeKds;
using fakes::RawServer;
using snp::Product;

namespace {

constexpr int64_t TTL = 3600;

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

VcekId genoa_id()
{
    auto report = snp::parse_report(test::read_vector("snp-reports/trustee_azure_genoa_v3/report.bin")).value();
    return vcek_id(report, std::nullopt).value();
}

// A client of `base_url` with a cache in `dir`, the fake clock and short timeouts.
std::unique_ptr<KdsClient> client(const std::string& base_url, const std::string& dir, test::FakeClock& clock,
                                  Mode mode = Mode::Online, int64_t max_retry_wait = 0)
{
    KdsOptions o;
    o.base_url = base_url;
    o.cache_dir = dir;
    o.ttl_seconds = TTL;
    o.mode = mode;
    o.max_retry_wait_seconds = max_retry_wait;
    o.clock = &clock;
    o.http.connect_timeout_ms = 1000;
    o.http.io_timeout_ms = 300;
    o.http.total_timeout_ms = 2000;
    auto c = KdsClient::create(o);
    REQUIRE_MESSAGE(c.ok(), message_of(c.error()));
    return c.release_value();
}

// A fake KDS serving the real Genoa VCEK and Milan chain from the vectors.
struct Fixture {
    std::unique_ptr<FakeKds> kds = FakeKds::start();
    test::ScratchDir cache;
    test::FakeClock clock;
    VcekId id = genoa_id();
    Bytes vcek = test::read_vector("snp-reports/trustee_azure_genoa_v3/vcek.der");
    Bytes chain = test::read_vector("snp-reports/amd_roots/cert_chain_vcek_milan.pem");

    Fixture()
    {
        kds->serve(vcek_path(id), vcek, "application/pkix-cert");
        kds->serve(cert_chain_path(Product::Milan, KeyFamily::Vcek), chain, "application/x-pem-file");
    }
    std::unique_ptr<KdsClient> make(Mode mode = Mode::Online, int64_t max_retry_wait = 0)
    {
        return client(kds->base_url(), cache.path(), clock, mode, max_retry_wait);
    }
};

}  // namespace

TEST_CASE("first fetch goes to KDS, then the cache answers without the network")
{
    Fixture f;
    auto c = f.make();
    auto first = c->vcek(f.id);
    REQUIRE_MESSAGE(first.ok(), message_of(first.error()));
    CHECK(first->source == Source::Network);
    CHECK(first->data == f.vcek);
    CHECK(first->fetched_at == f.clock.now());
    CHECK(first->url == f.kds->base_url() + vcek_path(f.id));

    f.clock.advance(TTL - 1);
    auto second = c->vcek(f.id);
    REQUIRE(second.ok());
    CHECK(second->source == Source::CacheFresh);
    CHECK(second->data == f.vcek);
    CHECK(f.kds->requests() == 1);

    // A new client (a restarted broker) uses the same cache.
    auto again = f.make()->vcek(f.id);
    CHECK(again->source == Source::CacheFresh);
    CHECK(f.kds->requests() == 1);

    auto chain = c->cert_chain(Product::Milan, KeyFamily::Vcek);
    REQUIRE(chain.ok());
    CHECK(chain->data == f.chain);
    CHECK(source_name(chain->source) == "network");
    CHECK(c->requests_sent() == 2);
}

TEST_CASE("the real VCEKs of Milan, Genoa and Turin, each at the path its report names")
{
    struct Vector {
        const char* dir;
        std::optional<Product> product;  // version 2 reports do not say
    };
    const Vector vectors[] = {
        {"gosevguest_milan_v2", Product::Milan}, {"trustee_azure_genoa_v3", {}}, {"oak_turin_v5", {}}};
    auto kds = FakeKds::start();
    test::ScratchDir cache;
    test::FakeClock clock;
    auto c = client(kds->base_url(), cache.path(), clock);
    for (const auto& v : vectors) {
        CAPTURE(v.dir);
        auto report = snp::parse_report(test::read_vector(std::string("snp-reports/") + v.dir + "/report.bin")).value();
        VcekId id = vcek_id(report, v.product).value();
        Bytes vcek = test::read_vector(std::string("snp-reports/") + v.dir + "/vcek.der");
        kds->serve(vcek_path(id), vcek);
        auto r = c->vcek(id);
        REQUIRE_MESSAGE(r.ok(), message_of(r.error()));
        CHECK(r->data == vcek);
        CHECK(c->vcek(id)->source == Source::CacheFresh);
    }
    CHECK(kds->requests() == 3);
}

TEST_CASE("an expired entry is fetched again")
{
    Fixture f;
    auto c = f.make();
    REQUIRE(c->vcek(f.id).ok());
    f.clock.advance(TTL);
    auto r = c->vcek(f.id);
    REQUIRE(r.ok());
    CHECK(r->source == Source::Network);
    CHECK(r->fetched_at == f.clock.now());
    CHECK(f.kds->requests_for(vcek_path(f.id)) == 2);

    // An entry from the future (the clock went back) is not trusted to be fresh.
    f.clock.advance(-2 * TTL);
    CHECK(c->vcek(f.id)->source == Source::Network);
}

TEST_CASE("KDS down: the stale copy is served and marked, with the cause")
{
    Fixture f;
    auto c = f.make();
    int64_t first_fetch = f.clock.now();
    REQUIRE(c->vcek(f.id).ok());
    f.clock.advance(TTL + 10);

    f.kds->set_outage(503);
    auto r = c->vcek(f.id);
    REQUIRE(r.ok());
    CHECK(r->source == Source::CacheStale);
    CHECK(r->fetched_at == first_fetch);
    CHECK(r->data == f.vcek);
    REQUIRE(r->refresh_error);
    CHECK(r->refresh_error->code() == Errc::Unavailable);
    CHECK(message_of(*r->refresh_error).find("KDS answered 503") != std::string::npos);

    f.kds->stop();  // connection refused
    r = c->vcek(f.id);
    REQUIRE(r.ok());
    CHECK(r->source == Source::CacheStale);
    CHECK(message_of(*r->refresh_error).find("refused") != std::string::npos);
}

TEST_CASE("empty cache and KDS down: Errc::Unavailable naming the cause and the URL")
{
    Fixture f;
    std::string base = f.kds->base_url();
    f.kds->stop();
    auto r = f.make()->vcek(f.id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);
    std::string msg = message_of(r.error());
    CHECK(msg.rfind("KDS_UNAVAILABLE: cannot connect to 127.0.0.1:", 0) == 0);
    CHECK(msg.find("refused") != std::string::npos);
    CHECK(msg.find("no cached VCEK (GET " + base +
                   "/vcek/v1/Genoa/0506ffba875e939c...?blSPL=10&teeSPL=00&snpSPL=23"
                   "&ucodeSPL=84)") != std::string::npos);
}

TEST_CASE("429 with Retry-After: no request inside the window, one after it")
{
    Fixture f;
    f.kds->respond(vcek_path(f.id), {429, {{"Retry-After", "120"}}, {}});
    auto c = f.make();
    auto r = c->vcek(f.id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);
    CHECK(message_of(r.error()).find("429") != std::string::npos);
    CHECK(f.kds->requests() == 1);

    f.kds->serve(vcek_path(f.id), f.vcek);
    f.clock.advance(60);
    r = c->vcek(f.id);
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.error()).find("not asking again for 60 s") != std::string::npos);
    CHECK(f.kds->requests() == 1);
    // The window is that VCEK's: other objects are still asked.
    CHECK(c->cert_chain(Product::Milan, KeyFamily::Vcek).ok());
    CHECK(f.kds->requests() == 2);
    CHECK(f.clock.slept() == 0);

    f.clock.advance(61);
    r = c->vcek(f.id);
    REQUIRE(r.ok());
    CHECK(r->source == Source::Network);
    CHECK(f.kds->requests() == 3);
}

TEST_CASE("a 429 for one chip pauses that chip's look-ups only; a new chip is still asked")
{
    Fixture f;
    VcekId flooded = f.id;
    flooded.hwid[0] ^= 0xff;  // another chip, as a report with a random CHIP_ID names
    f.kds->respond(vcek_path(flooded), {429, {{"Retry-After", "300"}}, {}});
    auto c = f.make();
    CHECK(c->vcek(flooded).error().code() == Errc::Unavailable);
    CHECK(c->vcek(flooded).error().code() == Errc::Unavailable);
    CHECK(f.kds->requests_for(vcek_path(flooded)) == 1);  // paused: not asked twice

    auto good = c->vcek(f.id);
    REQUIRE_MESSAGE(good.ok(), message_of(good.error()));
    CHECK(good->source == Source::Network);
    CHECK(f.kds->requests() == 2);

    VcekId newer_tcb = f.id;  // the same chip at another TCB is another object, asked too
    newer_tcb.tcb.snp += 1;
    CHECK(c->vcek(newer_tcb).error().code() == Errc::Network);  // the fake has none: 404
    CHECK(f.kds->requests() == 3);
}

TEST_CASE("429 inside the caller's wait bound: sleep it out, then ask once more")
{
    Fixture f;
    f.kds->respond(vcek_path(f.id), {429, {{"Retry-After", "5"}}, {}});
    auto c = f.make(Mode::Online, /*max_retry_wait=*/10);
    auto r = c->vcek(f.id);  // 429, sleep 5, 429 again: give up rather than sleep twice
    REQUIRE_FALSE(r.ok());
    CHECK(f.clock.slept() == 5);
    CHECK(f.kds->requests() == 2);

    f.kds->serve(vcek_path(f.id), f.vcek);
    f.clock.advance(2);  // 3 s of the new window left: within the bound
    r = c->vcek(f.id);
    REQUIRE(r.ok());
    CHECK(f.clock.slept() == 8);
    CHECK(f.kds->requests() == 3);
}

TEST_CASE("a Retry-After that is not delta-seconds uses the default window")
{
    Fixture f;
    f.kds->respond(vcek_path(f.id), {429, {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}, {}});
    auto c = f.make();
    CHECK_FALSE(c->vcek(f.id).ok());
    f.clock.advance(59);
    CHECK(message_of(c->vcek(f.id).error()).find("not asking again for 1 s") != std::string::npos);
    CHECK(f.kds->requests() == 1);
}

TEST_CASE("offline mode never touches the network")
{
    Fixture f;
    REQUIRE(f.make()->vcek(f.id).ok());
    REQUIRE(f.kds->requests() == 1);
    auto offline = f.make(Mode::Offline);

    CHECK(offline->vcek(f.id)->source == Source::CacheFresh);
    f.clock.advance(10 * TTL);
    auto stale = offline->vcek(f.id);
    REQUIRE(stale.ok());
    CHECK(stale->source == Source::CacheStale);
    CHECK(stale->data == f.vcek);

    auto missing = offline->cert_chain(Product::Milan, KeyFamily::Vcek);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == Errc::Config);
    CHECK(message_of(missing.error())
              .find("offline: no cached certificate chain for /vcek/v1/Milan/cert_chain in " + f.cache.path()) !=
          std::string::npos);
    CHECK(f.kds->requests() == 1);

    KdsOptions no_dir;
    no_dir.mode = Mode::Offline;
    CHECK(KdsClient::create(no_dir).error().code() == Errc::Config);
}

TEST_CASE("oversized and wrongly shaped answers are refused and not cached")
{
    Fixture f;
    Bytes huge(MAX_VCEK_SIZE + 1, 0x30);
    f.kds->serve(vcek_path(f.id), huge);
    auto c = f.make();
    auto r = c->vcek(f.id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);
    CHECK(message_of(r.error()).find("over the 16384 bytes allowed") != std::string::npos);

    f.kds->serve(vcek_path(f.id), Bytes{'<', 'h', 't', 'm', 'l', '>'}, "text/html");
    r = c->vcek(f.id);
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.error()).find("not with one DER object") != std::string::npos);

    f.kds->serve(cert_chain_path(Product::Milan, KeyFamily::Vcek), f.vcek);  // DER where PEM belongs
    CHECK_FALSE(c->cert_chain(Product::Milan, KeyFamily::Vcek).ok());
    CHECK(KdsCache::open(f.cache.path()).value().load(vcek_cache_key(f.id), MAX_VCEK_SIZE).value() == std::nullopt);
}

TEST_CASE("404 is final: no stale fallback")
{
    Fixture f;
    auto c = f.make();
    REQUIRE(c->vcek(f.id).ok());
    f.clock.advance(TTL + 1);
    f.kds->respond(vcek_path(f.id), {404, {}, {}});
    auto r = c->vcek(f.id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Network);
    CHECK(message_of(r.error()).find("KDS answered 404 for VCEK (GET " + f.kds->base_url() +
                                     "/vcek/v1/Genoa/0506ffba875e939c...?blSPL=10&teeSPL=00&snpSPL=23&ucodeSPL=84)") !=
          std::string::npos);
}

TEST_CASE("malformed HTTP and silent servers")
{
    test::ScratchDir cache;
    test::FakeClock clock;
    VcekId id = genoa_id();

    auto garbage = RawServer::start("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
    auto r = client(garbage->url(""), cache.path(), clock)->vcek(id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);
    CHECK(message_of(r.error()).find("malformed HTTP response") != std::string::npos);

    auto silent = RawServer::start("", RawServer::Mode::Silent);
    auto start = std::chrono::steady_clock::now();
    r = client(silent->url(""), cache.path(), clock)->vcek(id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);
    CHECK(message_of(r.error()).find("timed out reading from 127.0.0.1:") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("a copy that cannot be cached is still returned, with the reason")
{
    Fixture f;
    KdsCache cache = KdsCache::open(f.cache.path()).value();
    REQUIRE(mkdir(cache.path(vcek_cache_key(f.id)).c_str(), 0700) == 0);  // rename() onto it fails, even as root
    auto c = f.make();
    for (int i = 0; i < 2; ++i) {
        auto r = c->vcek(f.id);
        REQUIRE(r.ok());
        CHECK(r->source == Source::Network);
        CHECK(r->data == f.vcek);
        REQUIRE(r->cache_error);
        CHECK(r->cache_error->code() == Errc::Io);
    }
    CHECK(f.kds->requests() == 2);
}

TEST_CASE("a damaged cache entry is replaced online and reported offline")
{
    Fixture f;
    KdsCache cache = KdsCache::open(f.cache.path()).value();
    REQUIRE(write_file_atomic(cache.path(vcek_cache_key(f.id)), Bytes{'j', 'u', 'n', 'k'}).ok());

    auto offline = f.make(Mode::Offline)->vcek(f.id);
    REQUIRE_FALSE(offline.ok());
    CHECK(offline.error().code() == Errc::Format);

    auto online = f.make()->vcek(f.id);
    REQUIRE(online.ok());
    CHECK(online->source == Source::Network);
    CHECK(cache.load(vcek_cache_key(f.id), MAX_VCEK_SIZE).value()->data == f.vcek);
}

TEST_CASE("base URLs: a path prefix and trailing slashes; bad ones are Errc::Config")
{
    Fixture f;
    f.kds->serve("/mirror/vcek/v1/Milan/cert_chain", f.chain);
    auto c = client(f.kds->base_url() + "/mirror/", "", f.clock);
    auto r = c->cert_chain(Product::Milan, KeyFamily::Vcek);
    REQUIRE(r.ok());
    CHECK(r->url == f.kds->base_url() + "/mirror/vcek/v1/Milan/cert_chain");

    // Without a cache every call asks KDS.
    CHECK(c->cert_chain(Product::Milan, KeyFamily::Vcek)->source == Source::Network);
    CHECK(f.kds->requests() == 2);

    KdsOptions bad;
    bad.base_url = "ftp://kds";
    CHECK(KdsClient::create(bad).error().code() == Errc::Config);
    bad.base_url = "https://kds/?x=1";
    CHECK(KdsClient::create(bad).error().code() == Errc::Config);
}
