#include <doctest.h>

#include "attest_harness.h"
#include "failing_store.h"
#include "nonces.h"

using namespace cvm;
using namespace cvm::broker;
using cvm::test::FailingStore;
using cvm::test::FakeClock;

namespace {

Secret<32> key(uint8_t fill)
{
    Secret<32> k;
    std::fill(k.expose().begin(), k.expose().end(), fill);
    return k;
}

NonceCheck check(NonceIssuer& issuer, const Nonce& n, int64_t now)
{
    auto r = issuer.check_and_use(n, now);
    REQUIRE_MESSAGE(r.ok(), std::string(r.ok() ? "" : r.error().message()));
    return r.value();
}

}  // namespace

TEST_CASE("nonces: fresh once, then reused; unique across issues; recorded in the store")
{
    FakeClock clock;
    MemoryStore store(&clock);
    NonceIssuer issuer(key(1), 60, store);
    int64_t t = clock.now();
    Nonce a = issuer.issue(t);
    Nonce b = issuer.issue(t);
    CHECK(a != b);
    CHECK(check(issuer, a, t + 1) == NonceCheck::Fresh);
    CHECK(check(issuer, a, t + 2) == NonceCheck::Reused);
    CHECK(check(issuer, b, t + 59) == NonceCheck::Fresh);
    CHECK(store.size() == 2);
    CHECK(store.get(store_keys::nonce(a)).value().has_value());
}

TEST_CASE("nonces: expire after their lifetime; the record outlives the expiry by the clock skew, then goes")
{
    FakeClock clock;
    MemoryStore store(&clock);
    NonceIssuer issuer(key(1), 60, store);
    int64_t t = clock.now();
    Nonce a = issuer.issue(t);
    Nonce b = issuer.issue(t);
    clock.advance(60);
    CHECK(check(issuer, a, t + 60) == NonceCheck::Fresh);  // the last valid second
    clock.advance(1);
    CHECK(check(issuer, b, t + 61) == NonceCheck::Expired);

    // A replica whose clock is MAX_CLOCK_SKEW_SECONDS behind still takes `a` as unexpired: the
    // shared record must still be there for it.
    clock.advance(MAX_CLOCK_SKEW_SECONDS - 1);
    CHECK(store.get(store_keys::nonce(a)).value().has_value());
    NonceIssuer behind(key(1), 60, store);
    CHECK(check(behind, a, t + 60) == NonceCheck::Reused);
    clock.advance(1);
    CHECK_FALSE(store.get(store_keys::nonce(a)).value().has_value());
    CHECK(check(issuer, issuer.issue(clock.now()), clock.now()) == NonceCheck::Fresh);
    CHECK(store.size() == 1);  // a was pruned once expired
}

TEST_CASE("nonces: a broker sharing the key and the store accepts once; another key or a changed byte never")
{
    FakeClock clock;
    MemoryStore shared(&clock);
    NonceIssuer first(key(7), 60, shared);
    NonceIssuer second(key(7), 60, shared);
    int64_t t = clock.now();
    Nonce n = first.issue(t);
    CHECK(check(second, n, t + 10) == NonceCheck::Fresh);
    CHECK(check(first, n, t + 11) == NonceCheck::Reused);

    MemoryStore other_store(&clock);
    NonceIssuer stranger(key(8), 60, other_store);
    CHECK(check(stranger, first.issue(t), t) == NonceCheck::Invalid);
    for (size_t i = 0; i < NONCE_SIZE; ++i) {
        Nonce m = first.issue(t);
        m[i] ^= 0x01;
        CAPTURE(i);
        CHECK(check(first, m, t) == NonceCheck::Invalid);
    }
    CHECK(other_store.size() == 0);  // refused nonces are never recorded
}

TEST_CASE("nonces: an expiry beyond lifetime plus skew is refused even with a valid MAC")
{
    FakeClock clock;
    MemoryStore used(&clock);
    NonceIssuer long_lived(key(3), 3600, used);
    NonceIssuer short_lived(key(3), 60, used);
    int64_t t = clock.now();
    Nonce n = long_lived.issue(t);
    CHECK(check(short_lived, n, t) == NonceCheck::Invalid);
    CHECK(check(short_lived, n, t + 3600 - 60 - MAX_CLOCK_SKEW_SECONDS) == NonceCheck::Fresh);
}

TEST_CASE("nonces: a store that is down fails the check (Unavailable) and records nothing; it recovers")
{
    FakeClock clock;
    FailingStore store(&clock);
    NonceIssuer issuer(key(2), 60, store);
    int64_t t = clock.now();
    Nonce n = issuer.issue(t);
    store.set_down(true);
    auto down = issuer.check_and_use(n, t);
    REQUIRE_FALSE(down.ok());
    CHECK(down.error().code() == Errc::Unavailable);
    CHECK(store.memory().size() == 0);
    // Refusals that need no store still answer while it is down.
    Nonce forged = n;
    forged[0] ^= 1;
    CHECK(issuer.check_and_use(forged, t).value() == NonceCheck::Invalid);
    store.set_down(false);
    CHECK(check(issuer, n, t) == NonceCheck::Fresh);
    CHECK(check(issuer, n, t) == NonceCheck::Reused);
}

TEST_CASE("nonces: after a restart with a store that died, nonces of the earlier process are refused")
{
    FakeClock clock;
    int64_t start = clock.now();
    MemoryStore before(&clock);
    NonceIssuer old_process(key(4), 60, before);
    Nonce early = old_process.issue(start - 10);
    Nonce same_second = old_process.issue(start);
    CHECK(check(old_process, same_second, start) == NonceCheck::Fresh);  // used, then the process died

    MemoryStore after(&clock);
    NonceIssuer restarted(key(4), 60, after, start);
    CHECK(check(restarted, early, start) == NonceCheck::BeforeStart);
    CHECK(check(restarted, same_second, start) == NonceCheck::BeforeStart);  // the replay is refused
    Nonce own = restarted.issue(start);  // its own, made in the same second, are accepted
    CHECK(check(restarted, own, start) == NonceCheck::Fresh);
    CHECK(check(restarted, restarted.issue(start + 1), start + 1) == NonceCheck::Fresh);
    CHECK(check(restarted, old_process.issue(start + 1), start + 1) == NonceCheck::Fresh);  // a live replica's
    CHECK(after.size() == 3);

    // Without not_before (a shared store that outlives the process) an early nonce is judged by
    // the store alone.
    NonceIssuer shared(key(4), 60, before);
    CHECK(check(shared, same_second, start) == NonceCheck::Reused);
    CHECK(check(shared, early, start) == NonceCheck::Fresh);
}
