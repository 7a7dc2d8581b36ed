#include <doctest.h>

#include "vectors.h"
#include "verify/cache.h"

using namespace cvm;
using namespace cvm::verify;

namespace {

Fingerprint fp(uint8_t seed)
{
    Fingerprint f{};
    f.fill(seed);
    return f;
}

Claim passing(const char* name)
{
    return Claim{name, true, "", "", ""};
}

std::shared_ptr<const ReportKey> milan_key()
{
    static auto key =
        ReportKey::create(Certificate::parse(test::read_vector("snp-reports/virtee_milan_v2/vcek.der")).release_value())
            .release_value();
    return key;
}

VerificationCache::Vek passing_vek(const char* name)
{
    return {passing(name), milan_key()};
}

}  // namespace

TEST_CASE("keys separate fingerprints and kinds")
{
    CHECK(cache_key(fp(1), fp(2), VekKind::Vcek) != cache_key(fp(2), fp(1), VekKind::Vcek));
    CHECK(cache_key(fp(1), fp(2), VekKind::Vcek) != cache_key(fp(1), fp(2), VekKind::Vlek));
    CHECK(cache_key(fp(1), fp(2), VekKind::Vcek) == cache_key(fp(1), fp(2), VekKind::Vcek));
    CHECK(cache_key(fp(1), fp(2), VekKind::Vcek, Anchor::AmdPinned) !=
          cache_key(fp(1), fp(2), VekKind::Vcek, Anchor::CallerSupplied));
}

TEST_CASE("VEK entries: hits, misses and oldest-first eviction")
{
    VerificationCache cache(2);
    CHECK_FALSE(cache.find_vek(cache_key(fp(1), fp(9), VekKind::Vcek)).has_value());
    cache.put_vek(cache_key(fp(1), fp(9), VekKind::Vcek), passing_vek("one"));
    cache.put_vek(cache_key(fp(2), fp(9), VekKind::Vcek), passing_vek("two"));
    cache.put_vek(cache_key(fp(3), fp(9), VekKind::Vcek), passing_vek("three"));
    CHECK_FALSE(cache.find_vek(cache_key(fp(1), fp(9), VekKind::Vcek)).has_value());
    std::optional<VerificationCache::Vek> three = cache.find_vek(cache_key(fp(3), fp(9), VekKind::Vcek));
    REQUIRE(three.has_value());
    CHECK(three->claim.name == "three");
    CHECK(three->key == milan_key());  // the parsed key itself, not a copy to parse again
    CacheStats s = cache.stats();
    CHECK(s.vek_entries == 2);
    CHECK(s.vek_hits == 1);
    CHECK(s.vek_misses == 2);
    cache.clear();
    CHECK(cache.stats().vek_entries == 0);
}

TEST_CASE("a capacity of zero caches no VEK")
{
    VerificationCache cache(0);
    cache.put_vek(cache_key(fp(1), fp(9), VekKind::Vcek), passing_vek("one"));
    CHECK_FALSE(cache.find_vek(cache_key(fp(1), fp(9), VekKind::Vcek)).has_value());
}

TEST_CASE("chain entries")
{
    VerificationCache cache(4);
    CacheKey key = cache_key(fp(7), fp(8), VekKind::Vlek);
    CHECK_FALSE(cache.find_chain(key).has_value());
    cache.put_chain(key, passing("chain.ark"), passing("chain.ask"));
    auto hit = cache.find_chain(key);
    REQUIRE(hit.has_value());
    CHECK(hit->second.name == "chain.ask");
    CHECK(cache.stats().chain_hits == 1);
    CHECK(cache.stats().chain_misses == 1);
}
