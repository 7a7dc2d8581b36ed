// Challenge nonces: unpredictable, single-use, expiring — and stateless to issue, so that several
// brokers behind a load balancer can share the work (DESIGN.md §9).
//
// A nonce is 32 bytes that only a holder of the nonce key can make (docs/cvmkb-1.md §3):
//   [0, 16)   random (getrandom, via libsodium)
//   [16, 24)  expiry, seconds since the epoch, big-endian
//   [24, 32)  HMAC-SHA256(nonce key, "cvmkb/1 nonce" || bytes [0, 24)), first 8 bytes
// Any broker with the same key accepts a nonce another one issued. What issuing cannot make
// stateless is single use: accepted nonces are remembered by a UsedNonces store until they
// expire (in memory for one process; a shared store for several implements the same interface).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

#include "base/secret.h"
#include "proto/binding.h"

namespace cvm::broker {

using proto::Nonce;
using proto::NONCE_SIZE;
// How far the clocks of brokers sharing a nonce key may disagree.
inline constexpr int64_t MAX_CLOCK_SKEW_SECONDS = 30;

// Remembers accepted nonces until their expiry.
class UsedNonces {
public:
    virtual ~UsedNonces() = default;
    // Records `nonce` (valid until `expires_at`); false when it is already recorded. Entries
    // whose expiry is before `now` may be forgotten: an expired nonce is refused anyway.
    virtual bool record(const Nonce& nonce, int64_t expires_at, int64_t now) = 0;
};

// The store of one process. Memory is bounded by issuance rate x lifetime: only nonces that
// passed their MAC and expiry checks are ever recorded, and expired ones are pruned.
class MemoryUsedNonces final : public UsedNonces {
public:
    bool record(const Nonce& nonce, int64_t expires_at, int64_t now) override;
    size_t size() const;

private:
    mutable std::mutex m_mutex;
    std::map<Nonce, int64_t> m_used;
    std::multimap<int64_t, Nonce> m_by_expiry;
};

enum class NonceCheck : uint8_t {
    Fresh,    // issued by a holder of the key, not expired, first use: accepted (and now used)
    Invalid,  // not made with our key (forged, corrupted, or another broker group's)
    Expired,  // past its expiry: ask for a new challenge
    Reused,   // already accepted once: a replay
};

class NonceIssuer {
public:
    // `key` is shared by brokers that accept each other's nonces; `lifetime_seconds` > 0.
    NonceIssuer(Secret<32> key, int64_t lifetime_seconds, UsedNonces& used)
            : m_key(std::move(key)), m_lifetime(lifetime_seconds), m_used(used)
    {
    }

    int64_t lifetime_seconds() const { return m_lifetime; }

    Nonce issue(int64_t now) const;

    // Checks in this order: MAC (constant time), expiry (a nonce claiming to live longer than
    // our lifetime plus MAX_CLOCK_SKEW_SECONDS from now is Invalid, so a store never holds more
    // than that), then records it as used.
    NonceCheck check_and_use(const Nonce& nonce, int64_t now);

private:
    std::array<uint8_t, 8> tag(const Nonce& nonce) const;

    Secret<32> m_key;
    int64_t m_lifetime;
    UsedNonces& m_used;
};

}  // namespace cvm::broker
