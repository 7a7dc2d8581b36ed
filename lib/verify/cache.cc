#include "verify/cache.h"

#include <algorithm>

namespace cvm::verify {

// The number of distinct passing (ARK, ASK) pairs is bounded by the roots a caller trusts and
// the intermediates they signed; this bound only guards against a misbehaving caller.
static constexpr size_t CHAIN_CACHE_LIMIT = 64;

CacheKey cache_key(const Fingerprint& a, const Fingerprint& b, VekKind kind, Anchor anchor)
{
    CacheKey key{};
    std::copy(a.begin(), a.end(), key.begin());
    std::copy(b.begin(), b.end(), key.begin() + a.size());
    key[key.size() - 2] = static_cast<uint8_t>(kind);
    key[key.size() - 1] = static_cast<uint8_t>(anchor);
    return key;
}

std::optional<std::pair<Claim, Claim>> VerificationCache::find_chain(const CacheKey& key)
{
    std::lock_guard lock(m_mutex);
    auto it = m_chains.find(key);
    if (it == m_chains.end()) {
        ++m_stats.chain_misses;
        return std::nullopt;
    }
    ++m_stats.chain_hits;
    return it->second;
}

void VerificationCache::put_chain(const CacheKey& key, Claim ark, Claim ask)
{
    std::lock_guard lock(m_mutex);
    if (m_chains.size() >= CHAIN_CACHE_LIMIT)
        m_chains.clear();
    m_chains.insert_or_assign(key, std::make_pair(std::move(ark), std::move(ask)));
}

std::optional<VerificationCache::Vek> VerificationCache::find_vek(const CacheKey& key)
{
    std::lock_guard lock(m_mutex);
    auto it = m_veks.find(key);
    if (it == m_veks.end()) {
        ++m_stats.vek_misses;
        return std::nullopt;
    }
    ++m_stats.vek_hits;
    return it->second;
}

void VerificationCache::put_vek(const CacheKey& key, Vek vek)
{
    std::lock_guard lock(m_mutex);
    if (m_vek_capacity == 0)
        return;
    if (m_veks.insert_or_assign(key, std::move(vek)).second)
        m_vek_order.push_back(key);
    while (m_veks.size() > m_vek_capacity) {
        m_veks.erase(m_vek_order.front());
        m_vek_order.pop_front();
    }
}

void VerificationCache::clear()
{
    std::lock_guard lock(m_mutex);
    m_chains.clear();
    m_veks.clear();
    m_vek_order.clear();
}

CacheStats VerificationCache::stats() const
{
    std::lock_guard lock(m_mutex);
    CacheStats s = m_stats;
    s.vek_entries = m_veks.size();
    return s;
}

}  // namespace cvm::verify
