// Challenge nonces: unpredictable, single-use, expiring — and stateless to issue, so that several
// brokers behind a load balancer can share the work (DESIGN.md §9).
//
// A nonce is 32 bytes that only a holder of the nonce key can make (docs/cvmkb-1.md §3):
//   [0, 16)   random (getrandom, via libsodium)
//   [16, 24)  expiry, seconds since the epoch, big-endian
//   [24, 32)  HMAC-SHA256(nonce key, "cvmkb/1 nonce" || bytes [0, 24)), first 8 bytes
// Any broker with the same key accepts a nonce another one issued. What issuing cannot make
// stateless is single use: an accepted nonce is recorded in the Store (store.h) with
// set_if_absent until it has expired on every broker, so a second use fails on whichever
// replica it reaches, as long as the replicas share the store.
//
// Restarts: a store that dies with the process forgets which nonces were used. A broker whose
// store is in memory and whose nonce key outlives it (a configured nonce_key) is given
// `not_before` = the store's birth (Store::remembers_since): a nonce that may have been issued
// before then is refused (NonceCheck::BeforeStart), and nonces issued in that second get one more
// second of life so that they are told apart from an earlier process's (expiry is in whole
// seconds). A reload that keeps the store keeps `not_before`, so it refuses nothing new.
#pragma once

#include <array>
#include <cstdint>

#include "base/secret.h"
#include "proto/binding.h"
#include "store.h"

namespace cvm::broker {

using proto::Nonce;
using proto::NONCE_SIZE;
// How far the clocks of brokers sharing a nonce key may disagree.
inline constexpr int64_t MAX_CLOCK_SKEW_SECONDS = 30;

enum class NonceCheck : uint8_t {
    Fresh,        // issued by a holder of the key, not expired, first use: accepted (and now used)
    Invalid,      // not made with our key (forged, corrupted, or another broker group's)
    Expired,      // past its expiry: ask for a new challenge
    BeforeStart,  // possibly issued before this broker started, whose used nonces are forgotten
    Reused,       // already accepted once: a replay
};

class NonceIssuer {
public:
    // `key` is shared by brokers that accept each other's nonces; `lifetime_seconds` > 0; `store`
    // must outlive the issuer. `not_before` (0: none) is the start time of a broker whose store
    // does not survive it (see above).
    NonceIssuer(Secret<32> key, int64_t lifetime_seconds, Store& store, int64_t not_before = 0)
            : m_key(std::move(key)), m_lifetime(lifetime_seconds), m_store(store), m_not_before(not_before)
    {
    }

    int64_t lifetime_seconds() const { return m_lifetime; }

    Nonce issue(int64_t now) const;

    // Checks in this order: MAC (constant time), expiry (a nonce claiming to live longer than
    // our lifetime plus MAX_CLOCK_SKEW_SECONDS from now is Invalid, so a store never holds more
    // than that), not_before, then records it as used: set_if_absent(store_keys::nonce(nonce))
    // for its remaining life plus MAX_CLOCK_SKEW_SECONDS (a replica whose clock is behind still
    // sees it). The store's error (Errc::Unavailable) passes through: the nonce is then not
    // recorded, and the caller must not release anything.
    Result<NonceCheck> check_and_use(const Nonce& nonce, int64_t now);

private:
    std::array<uint8_t, 8> tag(const Nonce& nonce) const;

    Secret<32> m_key;
    int64_t m_lifetime;
    Store& m_store;
    int64_t m_not_before;
};

}  // namespace cvm::broker
