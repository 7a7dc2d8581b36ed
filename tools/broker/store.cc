#include "store.h"

#include <algorithm>

namespace cvm::broker {

namespace store_keys {
std::string nonce(ByteView nonce)
{
    return "cvmkb:nonce:" + to_hex(nonce);
}
std::string cache(std::string_view object)
{
    return "cvmkb:cache:" + std::string(object);
}
std::string kds_miss(std::string_view object)
{
    return "cvmkb:kds-miss:" + std::string(object);
}
std::string release(ByteView report_id, std::string_view resource)
{
    return "cvmkb:release:" + to_hex(report_id) + ":" + std::string(resource);
}
std::string volume(std::string_view name)
{
    return "cvmkb:volume:" + std::string(name);
}
std::string recover(std::string_view name)
{
    return "cvmkb:recover:" + std::string(name);
}
}  // namespace store_keys

int64_t MemoryStore::now()
{
    return m_clock ? m_clock->now() : kds::system_clock().now();
}

void MemoryStore::prune(int64_t now)
{
    while (!m_by_expiry.empty() && m_by_expiry.begin()->first <= now) {
        auto it = m_entries.find(m_by_expiry.begin()->second);
        // The index may be stale: put() can have given the key a later expiry, or none.
        if (it != m_entries.end() && it->second.expires_at != 0 && it->second.expires_at <= now)
            m_entries.erase(it);
        m_by_expiry.erase(m_by_expiry.begin());
    }
}

Result<bool> MemoryStore::set_if_absent(std::string_view key, ByteView value, int64_t ttl_seconds)
{
    int64_t t = now();
    std::lock_guard lock(m_mutex);
    prune(t);
    if (m_entries.contains(key))
        return false;
    int64_t expires_at = ttl_seconds > 0 ? t + ttl_seconds : 0;
    m_entries.emplace(std::string(key), Entry{Bytes(value.begin(), value.end()), expires_at});
    if (expires_at)
        m_by_expiry.emplace(expires_at, std::string(key));
    return true;
}

Result<void> MemoryStore::put(std::string_view key, ByteView value, int64_t ttl_seconds)
{
    int64_t t = now();
    std::lock_guard lock(m_mutex);
    prune(t);
    int64_t expires_at = ttl_seconds > 0 ? t + ttl_seconds : 0;
    m_entries.insert_or_assign(std::string(key), Entry{Bytes(value.begin(), value.end()), expires_at});
    if (expires_at)
        m_by_expiry.emplace(expires_at, std::string(key));
    return {};
}

Result<std::optional<Bytes>> MemoryStore::get(std::string_view key)
{
    int64_t t = now();
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(key);
    if (it == m_entries.end() || (it->second.expires_at != 0 && it->second.expires_at <= t))
        return std::optional<Bytes>();
    return std::optional<Bytes>(it->second.value);
}

Result<bool> MemoryStore::compare_and_set(std::string_view key, std::optional<ByteView> expected,
                                          std::optional<ByteView> value)
{
    int64_t t = now();
    std::lock_guard lock(m_mutex);
    prune(t);
    auto it = m_entries.find(key);
    bool live = it != m_entries.end() && (it->second.expires_at == 0 || it->second.expires_at > t);
    if (live != expected.has_value() || (live && !std::ranges::equal(ByteView(it->second.value), *expected)))
        return false;
    if (!value) {
        if (it != m_entries.end())
            m_entries.erase(it);
        return true;
    }
    m_entries.insert_or_assign(std::string(key), Entry{Bytes(value->begin(), value->end()), 0});
    return true;
}

size_t MemoryStore::size() const
{
    std::lock_guard lock(m_mutex);
    return m_entries.size();
}

}  // namespace cvm::broker
