// VcekSource (vcek_source.h): the Store as the VCEK cache, single flight per VCEK, the negative
// cache of KDS 404s and the per-client budget of look-ups for chips not cached.
#include <doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "attest_harness.h"
#include "fake_kds.h"
#include "kds/cache.h"
#include "kds/kds_url.h"
#include "net/http_server.h"
#include "snp/report.h"
#include "store.h"
#include "vcek_source.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::broker;

namespace {

const std::string GENOA = "snp-reports/trustee_azure_genoa_v3/";

snp::AttestationReport genoa_report()
{
    return snp::parse_report(test::read_vector(GENOA + "report.bin")).release_value();
}

// The Genoa report with another CHIP_ID: a chip KDS does not know (404 from the fake).
snp::AttestationReport other_chip(uint8_t n)
{
    snp::AttestationReport r = genoa_report();
    r.chip_id.fill(n);
    return r;
}

std::string path_of(const snp::AttestationReport& r)
{
    return kds::vcek_path(kds::vcek_id(r, std::nullopt).release_value());
}

struct Fixture {
    std::unique_ptr<fakes::FakeKds> kds = fakes::FakeKds::start();
    test::FakeClock clock;
    MemoryStore store{&clock};
    Metrics metrics;
    Bytes vcek = test::read_vector(GENOA + "vcek.der");

    Fixture() { kds->serve(path_of(genoa_report()), vcek); }
    std::unique_ptr<VcekSource> source(VcekSourceOptions options = {})
    {
        return std::make_unique<VcekSource>(test::kds_client(kds->base_url(), clock), store, metrics, clock, options);
    }
};

}  // namespace

TEST_CASE("client_address drops the port")
{
    CHECK(client_address("10.0.0.7:40522") == "10.0.0.7");
    CHECK(client_address("[2001:db8::1]:40522") == "[2001:db8::1]");
    CHECK(client_address("2001:db8::1") == "2001:db8::1");
    CHECK(client_address("") == "");
}

TEST_CASE("the Store is the VCEK cache: one KDS request, then every replica on the same store is served from it")
{
    Fixture f;
    auto a = f.source();
    VcekAnswer first = a->vcek_for(genoa_report(), "10.0.0.1:1");
    REQUIRE_MESSAGE(first.ok(), std::string(first.error.message()));
    CHECK(*first.vcek == f.vcek);
    CHECK(f.kds->requests() == 1);
    CHECK(a->vcek_for(genoa_report(), "10.0.0.1:2").ok());
    auto replica = f.source();  // its own KDS client and process state, the same store
    CHECK(replica->vcek_for(genoa_report(), "10.0.0.2:1").ok());
    CHECK(f.kds->requests() == 1);

    // Past the TTL the stored copy is stale: KDS is asked; when it is down, the stale copy serves.
    f.clock.advance(VcekSourceOptions{}.cache_ttl_seconds + 1);
    f.kds->set_outage(503);
    VcekAnswer stale = a->vcek_for(genoa_report(), "10.0.0.1:3");
    REQUIRE(stale.ok());
    CHECK(*stale.vcek == f.vcek);
    CHECK(f.kds->requests() == 2);
}

TEST_CASE("the Store is not trusted: a malformed entry is no entry, an oversized one is not read")
{
    Fixture f;
    std::string key = store_keys::cache(kds::vcek_cache_key(kds::vcek_id(genoa_report(), std::nullopt).value()));
    for (Bytes junk : {Bytes{1, 2, 3}, Bytes(8 + kds::MAX_VCEK_SIZE + 1, 0)}) {
        REQUIRE(f.store.put(key, junk, 0).ok());
        size_t before = f.kds->requests();
        VcekAnswer a = f.source()->vcek_for(genoa_report(), "10.0.0.1:1");
        REQUIRE(a.ok());
        CHECK(*a.vcek == f.vcek);
        CHECK(f.kds->requests() == before + 1);
    }
    // A well-formed entry holding some other certificate is returned: the verifier, not the
    // store, decides (the broker's attest tests show such a VCEK fails the chain).
}

TEST_CASE("single flight: concurrent look-ups of one new chip make one KDS request")
{
    test::FakeClock clock;
    MemoryStore store(&clock);
    Metrics metrics;
    Bytes vcek = test::read_vector(GENOA + "vcek.der");
    std::atomic<int> requests{0};
    auto slow_kds = net::HttpServer::start({}, [&](const net::HttpRequest&) {
                        ++requests;
                        std::this_thread::sleep_for(std::chrono::milliseconds(300));
                        return net::HttpResponse{200, {}, vcek};
                    }).release_value();
    VcekSource source(test::kds_client("http://127.0.0.1:" + std::to_string(slow_kds->port()), clock), store, metrics,
                      clock);
    constexpr int THREADS = 8;
    std::atomic<int> served{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < THREADS; ++i)
        threads.emplace_back([&, i] {
            VcekAnswer a = source.vcek_for(genoa_report(), "10.0.0." + std::to_string(i) + ":1");
            served += a.ok() && *a.vcek == vcek;
        });
    for (auto& t : threads)
        t.join();
    CHECK(served == THREADS);
    CHECK(requests == 1);
    CHECK(source.kds_requests() == 1);
}

TEST_CASE("negative cache: a KDS 404 is remembered for miss_ttl_seconds, in the store, for every replica")
{
    Fixture f;
    VcekSourceOptions o;
    o.miss_ttl_seconds = 300;
    auto a = f.source(o);
    VcekAnswer first = a->vcek_for(other_chip(0x42), "10.0.0.1:1");
    CHECK_FALSE(first.ok());
    CHECK(first.refusal == VcekRefusal::NotFound);
    CHECK(f.kds->requests() == 1);
    VcekAnswer again = f.source(o)->vcek_for(other_chip(0x42), "10.0.0.9:1");  // another replica
    CHECK(again.refusal == VcekRefusal::NotFound);
    CHECK(std::string(again.error.message()).find("remembered for 300 s") != std::string::npos);
    CHECK(f.kds->requests() == 1);
    f.clock.advance(301);
    CHECK_FALSE(a->vcek_for(other_chip(0x42), "10.0.0.1:1").ok());
    CHECK(f.kds->requests() == 2);
    // KDS down is not a 404: nothing negative is remembered.
    f.kds->set_outage(503);
    VcekAnswer down = a->vcek_for(other_chip(0x43), "10.0.0.1:1");
    CHECK(down.refusal == VcekRefusal::KdsUnavailable);
    CHECK(down.retry_after > 0);
    f.kds->set_outage(0);
    CHECK(a->vcek_for(other_chip(0x43), "10.0.0.1:1").refusal == VcekRefusal::NotFound);
    CHECK(f.kds->requests() == 4);
}

TEST_CASE("budget: a client's look-ups of uncached chips are limited per window, without touching KDS")
{
    Fixture f;
    VcekSourceOptions o;
    o.unknown_chip_budget = 3;
    o.budget_window_seconds = 60;
    auto s = f.source(o);
    for (uint8_t chip = 1; chip <= 3; ++chip)
        CHECK(s->vcek_for(other_chip(chip), "192.0.2.66:1000").refusal == VcekRefusal::NotFound);
    CHECK(f.kds->requests() == 3);
    for (uint8_t chip = 4; chip <= 12; ++chip) {  // another port, the same client
        VcekAnswer a = s->vcek_for(other_chip(chip), "192.0.2.66:" + std::to_string(2000 + chip));
        CHECK(a.refusal == VcekRefusal::ClientBudget);
        CHECK(a.retry_after == 60);
    }
    CHECK(f.kds->requests() == 3);
    VcekAnswer msg = s->vcek_for(other_chip(13), "192.0.2.66:1");
    CHECK(std::string(msg.error.message()).find("may start 3 look-ups") != std::string::npos);

    // Another client still gets a new chip's VCEK; a remembered 404 costs no budget.
    VcekAnswer good = s->vcek_for(genoa_report(), "192.0.2.10:1");
    REQUIRE_MESSAGE(good.ok(), std::string(good.error.message()));
    CHECK(s->vcek_for(other_chip(1), "192.0.2.66:1").refusal == VcekRefusal::NotFound);  // negative cache
    // A chip already cached costs no budget either, even for the spent client.
    CHECK(s->vcek_for(genoa_report(), "192.0.2.66:1").ok());
    CHECK(f.kds->requests() == 4);

    f.clock.advance(30);
    CHECK(s->vcek_for(other_chip(20), "192.0.2.66:1").retry_after == 30);
    f.clock.advance(30);  // a new window
    CHECK(s->vcek_for(other_chip(20), "192.0.2.66:1").refusal == VcekRefusal::NotFound);
    CHECK(f.kds->requests() == 5);
}

TEST_CASE("budget: clients beyond max_clients are forgotten oldest first, memory stays bounded")
{
    Fixture f;
    VcekSourceOptions o;
    o.unknown_chip_budget = 1;
    o.max_clients = 4;
    auto s = f.source(o);
    for (int c = 0; c < 4; ++c) {
        CHECK(s->vcek_for(other_chip(static_cast<uint8_t>(c + 1)), "10.1.0." + std::to_string(c) + ":1").refusal ==
              VcekRefusal::NotFound);
        f.clock.advance(1);
    }
    CHECK(s->vcek_for(other_chip(30), "10.1.0.0:1").refusal == VcekRefusal::ClientBudget);
    CHECK(s->vcek_for(other_chip(31), "10.1.0.9:1").refusal == VcekRefusal::NotFound);  // a fifth: evicts 10.1.0.0
    CHECK(s->vcek_for(other_chip(32), "10.1.0.0:1").refusal == VcekRefusal::NotFound);  // forgotten: a new budget
}
