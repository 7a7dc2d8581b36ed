#include <doctest.h>

#include "attest_harness.h"
#include "store.h"

using namespace cvm;
using namespace cvm::broker;

namespace {

const Bytes A = {1, 2, 3};
const Bytes B = {4, 5};

}  // namespace

TEST_CASE("memory store: set_if_absent sets once, put replaces, get sees the latest value")
{
    test::FakeClock clock;
    MemoryStore store(&clock);
    CHECK(store.set_if_absent("k", A, 0).value());
    CHECK_FALSE(store.set_if_absent("k", B, 0).value());
    CHECK(store.get("k").value() == A);
    REQUIRE(store.put("k", B, 0));
    CHECK(store.get("k").value() == B);
    CHECK_FALSE(store.get("absent").value().has_value());
    CHECK(store.ping());
    CHECK(store.describe() == "memory");
}

TEST_CASE("memory store: an entry lives exactly its TTL, then can be set again and is pruned")
{
    test::FakeClock clock;
    MemoryStore store(&clock);
    CHECK(store.set_if_absent("n", A, 10).value());
    clock.advance(9);
    CHECK(store.get("n").value() == A);
    CHECK_FALSE(store.set_if_absent("n", B, 10).value());
    clock.advance(1);
    CHECK_FALSE(store.get("n").value().has_value());
    CHECK(store.set_if_absent("n", B, 10).value());
    CHECK(store.size() == 1);
    clock.advance(20);
    REQUIRE(store.put("other", A, 0));
    CHECK(store.size() == 1);  // "n" pruned by the write
}

TEST_CASE("memory store: put without a TTL outlives the old entry's expiry")
{
    test::FakeClock clock;
    MemoryStore store(&clock);
    REQUIRE(store.put("k", A, 5));
    REQUIRE(store.put("k", B, 0));
    clock.advance(100);
    REQUIRE(store.put("x", A, 1));
    CHECK(store.get("k").value() == B);
}

TEST_CASE("store keys: one prefix per kind, identifiers in hex")
{
    CHECK(store_keys::nonce(Bytes{0xab, 0x01}) == "cvmkb:nonce:ab01");
    CHECK(store_keys::release(Bytes{0xff}, "data") == "cvmkb:release:ff:data");
    CHECK(store_keys::cache("vcek/Genoa/x") == "cvmkb:cache:vcek/Genoa/x");
    CHECK(store_keys::kds_miss("vcek/Genoa/x") == "cvmkb:kds-miss:vcek/Genoa/x");
}
