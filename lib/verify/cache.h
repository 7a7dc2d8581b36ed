// The Verifier's memory of RSA work already done. Internal to the verify layer. Thread-safe: one
// short lock around each lookup or insertion (entries are copied out under it), never around
// any cryptography, so verifications run in parallel.
//
// Only passing claims are stored, so a cached entry never turns a failure into a success, and an
// attacker's invalid certificates never fill the cache. Keys are SHA-256 fingerprints of the
// exact DER bytes, so a different certificate is a different entry.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "base/claim.h"
#include "verify/amd_roots.h"
#include "verify/certificate.h"
#include "verify/chain.h"
#include "verify/signatures.h"
#include "verify/verifier.h"

namespace cvm::verify {

// (first fingerprint, second fingerprint, kind, anchor): the claims of a link depend on all four.
using CacheKey = std::array<uint8_t, 2 * sizeof(Fingerprint) + 2>;

CacheKey cache_key(const Fingerprint& a, const Fingerprint& b, VekKind kind, Anchor anchor = Anchor::AmdPinned);

class VerificationCache {
public:
    explicit VerificationCache(size_t vek_capacity) : m_vek_capacity(vek_capacity) {}

    // chain.ark and chain.ask claims of a passing (ARK, ASK/ASVK) pair; nullopt (and a miss
    // counted) when absent.
    std::optional<std::pair<Claim, Claim>> find_chain(const CacheKey& key);
    void put_chain(const CacheKey& key, Claim ark, Claim ask);

    // A passing (VEK, ASK/ASVK) pair: its chain.vek claim and the VEK's parsed public key, so a
    // report signed by a known VEK costs its ECDSA verification and no key parsing.
    struct Vek {
        Claim claim;
        std::shared_ptr<const ReportKey> key;  // never null
    };
    // nullopt (and a miss counted) when absent.
    std::optional<Vek> find_vek(const CacheKey& key);
    void put_vek(const CacheKey& key, Vek vek);

    void clear();
    CacheStats stats() const;

private:
    mutable std::mutex m_mutex;  // guards everything below
    size_t m_vek_capacity;
    std::map<CacheKey, std::pair<Claim, Claim>> m_chains;
    std::map<CacheKey, Vek> m_veks;
    std::deque<CacheKey> m_vek_order;  // insertion order, for eviction
    CacheStats m_stats;
};

}  // namespace cvm::verify
