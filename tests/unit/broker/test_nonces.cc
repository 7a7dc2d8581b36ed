#include <doctest.h>

#include "nonces.h"

using namespace cvm;
using namespace cvm::broker;

namespace {

Secret<32> key(uint8_t fill)
{
    Secret<32> k;
    std::fill(k.expose().begin(), k.expose().end(), fill);
    return k;
}

}  // namespace

TEST_CASE("nonces: fresh once, then reused; unique across issues")
{
    MemoryUsedNonces used;
    NonceIssuer issuer(key(1), 60, used);
    Nonce a = issuer.issue(1000);
    Nonce b = issuer.issue(1000);
    CHECK(a != b);
    CHECK(issuer.check_and_use(a, 1001) == NonceCheck::Fresh);
    CHECK(issuer.check_and_use(a, 1002) == NonceCheck::Reused);
    CHECK(issuer.check_and_use(b, 1059) == NonceCheck::Fresh);
    CHECK(used.size() == 2);
}

TEST_CASE("nonces: expire after their lifetime, and the store forgets them")
{
    MemoryUsedNonces used;
    NonceIssuer issuer(key(1), 60, used);
    Nonce a = issuer.issue(1000);
    CHECK(issuer.check_and_use(a, 1060) == NonceCheck::Fresh);  // the last valid second
    Nonce b = issuer.issue(1000);
    CHECK(issuer.check_and_use(b, 1061) == NonceCheck::Expired);
    CHECK(issuer.check_and_use(issuer.issue(2000), 2000) == NonceCheck::Fresh);
    CHECK(used.size() == 1);  // a was pruned once expired
}

TEST_CASE("nonces: a broker sharing the key accepts, another key or a changed byte does not")
{
    MemoryUsedNonces shared;
    NonceIssuer first(key(7), 60, shared);
    NonceIssuer second(key(7), 60, shared);
    Nonce n = first.issue(500);
    CHECK(second.check_and_use(n, 510) == NonceCheck::Fresh);
    CHECK(first.check_and_use(n, 511) == NonceCheck::Reused);

    MemoryUsedNonces other_store;
    NonceIssuer stranger(key(8), 60, other_store);
    CHECK(stranger.check_and_use(first.issue(500), 500) == NonceCheck::Invalid);
    for (size_t i = 0; i < NONCE_SIZE; ++i) {
        Nonce m = first.issue(500);
        m[i] ^= 0x01;
        CAPTURE(i);
        CHECK(first.check_and_use(m, 500) == NonceCheck::Invalid);
    }
}

TEST_CASE("nonces: an expiry beyond lifetime plus skew is refused even with a valid MAC")
{
    MemoryUsedNonces used;
    NonceIssuer long_lived(key(3), 3600, used);
    NonceIssuer short_lived(key(3), 60, used);
    Nonce n = long_lived.issue(0);
    CHECK(short_lived.check_and_use(n, 0) == NonceCheck::Invalid);
    CHECK(short_lived.check_and_use(n, 3600 - 60 - MAX_CLOCK_SKEW_SECONDS) == NonceCheck::Fresh);
}
