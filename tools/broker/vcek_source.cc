#include "vcek_source.h"

#include <algorithm>

#include "kds/cache.h"
#include "verify/crl.h"

namespace cvm::broker {

namespace {

constexpr size_t STAMP_SIZE = 8;  // the stored value: fetch time (u64 big-endian), then the DER

Bytes stamped(int64_t fetched_at, ByteView der)
{
    Bytes out(STAMP_SIZE);
    for (size_t i = 0; i < STAMP_SIZE; ++i)
        out[i] = static_cast<uint8_t>(static_cast<uint64_t>(fetched_at) >> (8 * (STAMP_SIZE - 1 - i)));
    out.insert(out.end(), der.begin(), der.end());
    return out;
}

struct Stored {
    int64_t fetched_at;
    Bytes der;
};

// The store is not trusted: a value of the wrong size is no entry at all.
std::optional<Stored> unstamp(const Bytes& value, size_t max_size = kds::MAX_VCEK_SIZE)
{
    if (value.size() <= STAMP_SIZE || value.size() > STAMP_SIZE + max_size)
        return std::nullopt;
    uint64_t at = 0;
    for (size_t i = 0; i < STAMP_SIZE; ++i)
        at = at << 8 | value[i];
    return Stored{static_cast<int64_t>(at), Bytes(value.begin() + STAMP_SIZE, value.end())};
}

VcekAnswer found(Bytes der)
{
    VcekAnswer a;
    a.vcek = std::move(der);
    return a;
}

VcekAnswer refused(VcekRefusal why, Error error, int64_t retry_after = 0)
{
    VcekAnswer a;
    a.refusal = why;
    a.error = error;
    a.retry_after = retry_after;
    return a;
}

// How long a client waits after KDS could not be reached: the next attempt may well succeed.
constexpr int64_t KDS_RETRY_SECONDS = 5;

}  // namespace

std::string client_address(std::string_view peer)
{
    size_t colon = peer.rfind(':');
    if (colon == std::string_view::npos || (peer.front() != '[' && peer.find(':') != colon))
        return std::string(peer);  // no port, or a bare IPv6 address
    return std::string(peer.substr(0, colon));
}

VcekSource::VcekSource(std::unique_ptr<kds::KdsClient> kds, Store& store, Metrics& metrics, kds::Clock& clock,
                       VcekSourceOptions options)
        : m_kds(std::move(kds)), m_store(store), m_metrics(metrics), m_clock(clock), m_options(options)
{
}

VcekAnswer VcekSource::vcek_for(const snp::AttestationReport& report, std::string_view peer)
{
    auto id = kds::vcek_id(report, std::nullopt);
    if (!id)
        return refused(VcekRefusal::NotFound, id.error());
    const std::string key = kds::vcek_cache_key(id.value());
    const int64_t now = m_clock.now();

    std::optional<Bytes> stale;
    if (auto value = m_store.get(store_keys::cache(key)); value && value.value()) {
        if (auto entry = unstamp(*value.value())) {
            if (entry->fetched_at <= now && now - entry->fetched_at < m_options.cache_ttl_seconds) {
                m_metrics.vcek_cache(true);
                return found(std::move(entry->der));
            }
            stale = std::move(entry->der);
        }
    }
    m_metrics.vcek_cache(false);
    if (auto miss = m_store.get(store_keys::kds_miss(key)); miss && miss.value())
        return refused(
            VcekRefusal::NotFound,
            Error::make(Errc::Network,
                        "KDS has no VCEK for CHIP_ID %.16s... at this TCB (its 404 is remembered for %lld s)",
                        to_hex(id.value().hwid).c_str(), static_cast<long long>(m_options.miss_ttl_seconds)));

    std::shared_ptr<Flight<VcekAnswer>> flight;
    {
        std::unique_lock lock(m_mutex);
        if (auto it = m_flights.find(key); it != m_flights.end()) {
            std::shared_ptr<Flight<VcekAnswer>> joined = it->second;  // someone is asking KDS for this VCEK
            m_landed.wait(lock, [&] { return joined->done; });
            return joined->answer;
        }
        if (auto wait = charge(client_address(peer), now)) {
            if (stale)  // not an unknown chip: the stored copy serves until the budget is back
                return found(std::move(*stale));
            return refused(VcekRefusal::ClientBudget,
                           Error::make(Errc::Unavailable,
                                       "KDS look-up budget spent: this client may start %u look-ups of VCEKs not "
                                       "cached per %lld s; next in %lld s",
                                       m_options.unknown_chip_budget,
                                       static_cast<long long>(m_options.budget_window_seconds),
                                       static_cast<long long>(*wait)),
                           *wait);
        }
        flight = std::make_shared<Flight<VcekAnswer>>();
        m_flights.emplace(key, flight);
    }
    VcekAnswer answer = fetch(id.value(), key, std::move(stale));
    {
        std::lock_guard lock(m_mutex);
        flight->answer = answer;
        flight->done = true;
        m_flights.erase(key);
    }
    m_landed.notify_all();
    return answer;
}

VcekAnswer VcekSource::fetch(const kds::VcekId& id, const std::string& key, std::optional<Bytes> stale)
{
    auto fetched = m_kds->vcek(id);
    if (fetched) {
        m_metrics.kds_fetch(kds::source_name(fetched->source));
        // A failed write only costs the next look-up a KDS request.
        (void)m_store.put(store_keys::cache(key), stamped(fetched->fetched_at, fetched->data), STORED_VCEK_SECONDS);
        return found(std::move(fetched->data));
    }
    if (fetched.error().code() == Errc::Unavailable) {
        if (stale) {
            m_metrics.kds_fetch(kds::source_name(kds::Source::CacheStale));
            return found(std::move(*stale));
        }
        return refused(VcekRefusal::KdsUnavailable, fetched.error(), KDS_RETRY_SECONDS);
    }
    if (fetched.error().code() == Errc::Network)  // KDS answered, and not with a VCEK (404)
        (void)m_store.put(store_keys::kds_miss(key), as_bytes(std::string_view("404")), m_options.miss_ttl_seconds);
    return refused(VcekRefusal::NotFound, fetched.error());
}

bool VcekSource::current(ByteView crl, int64_t now)
{
    auto parsed = verify::Crl::parse(crl);
    if (!parsed)
        return false;
    std::optional<std::time_t> next = parsed->next_update_time();
    return next && now <= *next;
}

CrlAnswer VcekSource::crl_for(snp::Product product, kds::KeyFamily family)
{
    const std::string key = kds::crl_cache_key(product, family);
    const int64_t now = m_clock.now();
    std::optional<Bytes> stale;
    if (auto value = m_store.get(store_keys::cache(key)); value && value.value()) {
        if (auto entry = unstamp(*value.value(), verify::CRL_MAX_PEM_SIZE)) {
            bool young = entry->fetched_at <= now && now - entry->fetched_at < m_options.cache_ttl_seconds;
            if (young && current(entry->der, now)) {
                m_metrics.crl_cache(true);
                CrlAnswer a;
                a.crl = std::move(entry->der);
                return a;
            }
            stale = std::move(entry->der);
        }
    }
    m_metrics.crl_cache(false);

    std::shared_ptr<Flight<CrlAnswer>> flight;
    {
        std::unique_lock lock(m_mutex);
        if (auto it = m_crl_flights.find(key); it != m_crl_flights.end()) {
            std::shared_ptr<Flight<CrlAnswer>> joined = it->second;  // someone is asking KDS for this CRL
            m_landed.wait(lock, [&] { return joined->done; });
            return joined->answer;
        }
        flight = std::make_shared<Flight<CrlAnswer>>();
        m_crl_flights.emplace(key, flight);
    }
    CrlAnswer answer = fetch_crl(product, family, key, std::move(stale));
    {
        std::lock_guard lock(m_mutex);
        flight->answer = answer;
        flight->done = true;
        m_crl_flights.erase(key);
    }
    m_landed.notify_all();
    return answer;
}

CrlAnswer VcekSource::fetch_crl(snp::Product product, kds::KeyFamily family, const std::string& key,
                                std::optional<Bytes> stale)
{
    CrlAnswer a;
    const int64_t now = m_clock.now();
    auto fetched = m_kds->crl(product, family);
    if (fetched && (fetched->source != kds::Source::CacheStale || current(fetched->data, now))) {
        m_metrics.crl_fetch(kds::source_name(fetched->source));
        if (fetched->source != kds::Source::CacheStale)  // a failed write costs the next look-up a request
            (void)m_store.put(store_keys::cache(key), stamped(fetched->fetched_at, fetched->data), STORED_CRL_SECONDS);
        a.crl = std::move(fetched->data);
        return a;
    }
    if (!fetched && fetched.error().code() != Errc::Unavailable) {  // KDS answered, without a CRL (404)
        a.error = fetched.error();
        return a;
    }
    // KDS cannot be reached: a copy is usable until its own nextUpdate.
    if (stale && current(*stale, now)) {
        m_metrics.crl_fetch(kds::source_name(kds::Source::CacheStale));
        a.crl = std::move(*stale);
        return a;
    }
    a.refusal = VcekRefusal::KdsUnavailable;
    a.retry_after = KDS_RETRY_SECONDS;
    std::string cause =
        fetched ? "the KDS client's cached copy is past its nextUpdate" : std::string(fetched.error().message());
    a.error = Error::make(Errc::Unavailable,
                          "no current %s %s CRL: KDS cannot be reached (%s), and no stored copy's "
                          "nextUpdate is still ahead",
                          std::string(snp::product_name(product)).c_str(),
                          std::string(kds::key_family_name(family)).c_str(), cause.c_str());
    return a;
}

std::optional<int64_t> VcekSource::charge(const std::string& client, int64_t now)
{
    if (!m_budgets.contains(client) && m_budgets.size() >= m_options.max_clients) {
        std::erase_if(m_budgets,
                      [&](const auto& b) { return now - b.second.window_start >= m_options.budget_window_seconds; });
        if (m_budgets.size() >= m_options.max_clients) {
            auto oldest = std::min_element(m_budgets.begin(), m_budgets.end(), [](const auto& a, const auto& b) {
                return a.second.window_start < b.second.window_start;
            });
            m_budgets.erase(oldest);
        }
    }
    Budget& b = m_budgets[client];
    if (now - b.window_start >= m_options.budget_window_seconds || now < b.window_start) {
        b.window_start = now;
        b.used = 0;
    }
    if (b.used >= m_options.unknown_chip_budget)
        return std::max<int64_t>(1, b.window_start + m_options.budget_window_seconds - now);
    ++b.used;
    return std::nullopt;
}

}  // namespace cvm::broker
