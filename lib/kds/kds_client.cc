#include "kds/kds_client.h"

#include <algorithm>
#include <cctype>

#include "base/der.h"
#include "net/url.h"

namespace cvm::kds {

std::string_view source_name(Source source)
{
    switch (source) {
    case Source::CacheFresh: return "cache-fresh";
    case Source::Network: return "network";
    case Source::CacheStale: return "cache-stale";
    }
    return "?";
}

namespace {

Fetched from_cache(CacheEntry& entry, Source source, std::string url, std::optional<Error> refresh_error)
{
    Fetched f;
    f.data = std::move(entry.data);
    f.source = source;
    f.fetched_at = entry.fetched_at;
    f.url = std::move(url);
    f.refresh_error = std::move(refresh_error);
    return f;
}

}  // namespace

// The outcome of one request to KDS.
struct KdsClient::Attempt {
    enum class Verdict : uint8_t { Ok, Retryable, Final } verdict;
    Bytes data;
    Error error{};
    int64_t retry_after{-1};  // seconds, when KDS answered 429

    static Attempt ok(Bytes data) { return {Verdict::Ok, std::move(data)}; }
    static Attempt retryable(Error e, int64_t retry_after = -1) { return {Verdict::Retryable, {}, e, retry_after}; }
    static Attempt refused(Error e) { return {Verdict::Final, {}, e}; }
};

Result<std::unique_ptr<KdsClient>> KdsClient::create(KdsOptions options)
{
    std::string base = options.base_url;
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    auto url = net::parse_url(base);
    if (!url.ok())
        return url.release_error().prefix("KDS base URL");
    if (url->target.find('?') != std::string::npos)
        return Error::make(Errc::Config, "KDS base URL %s must not have a query", options.base_url.c_str());
    if (options.mode == Mode::Offline && options.cache_dir.empty())
        return Error::make(Errc::Config, "KDS offline mode needs a cache directory");
    std::optional<KdsCache> cache;
    if (!options.cache_dir.empty())
        cache = TRY(KdsCache::open(options.cache_dir));
    return std::unique_ptr<KdsClient>(new KdsClient(std::move(options), std::move(cache), std::move(base)));
}

Result<Fetched> KdsClient::vcek(const VcekId& id)
{
    std::string path = vcek_path(id);
    std::string hwid = to_hex(id.hwid);
    std::string shown = path;
    if (hwid.size() > 16)
        shown.replace(shown.find(hwid), hwid.size(), hwid.substr(0, 16) + "...");
    return get({"VCEK", path, shown, vcek_cache_key(id), MAX_VCEK_SIZE, Shape::Der});
}

Result<Fetched> KdsClient::cert_chain(snp::Product product, KeyFamily family)
{
    std::string path = cert_chain_path(product, family);
    return get(
        {"certificate chain", path, path, cert_chain_cache_key(product, family), MAX_CERT_CHAIN_SIZE, Shape::Pem});
}

Result<Fetched> KdsClient::crl(snp::Product product, KeyFamily family)
{
    std::string path = crl_path(product, family);
    return get({"CRL", path, path, crl_cache_key(product, family), MAX_CRL_SIZE, Shape::Der});
}

Result<Fetched> KdsClient::get(const Object& object)
{
    int64_t now = clock().now();
    std::optional<CacheEntry> cached;
    if (m_cache) {
        auto loaded = m_cache->load(object.cache_key, object.max_size);
        if (loaded.ok())
            cached = std::move(loaded.value());
        else if (m_options.mode == Mode::Offline)
            return loaded.release_error();  // online, a damaged entry is simply replaced
    }
    std::string url = m_base + object.path;
    if (cached && cached->fetched_at <= now && now - cached->fetched_at < m_options.ttl_seconds)
        return from_cache(*cached, Source::CacheFresh, url, std::nullopt);
    if (m_options.mode == Mode::Offline) {
        if (!cached)
            return Error::make(Errc::Config, "offline: no cached %s for %s in %s", object.what.c_str(),
                               object.shown_path.c_str(), m_cache->dir().c_str());
        return from_cache(*cached, Source::CacheStale, url,
                          Error::make(Errc::Config, "offline mode: KDS is not asked"));
    }

    // At most two requests: the second only after sleeping out a Retry-After window short
    // enough for max_retry_wait_seconds.
    std::optional<Error> last_error;
    bool slept = false;
    for (int round = 0; round < 2; ++round) {
        int64_t wait = retry_at(object.cache_key) - clock().now();
        if (wait > 0 && (slept || wait > m_options.max_retry_wait_seconds)) {
            if (!last_error)
                last_error = Error::make(Errc::Unavailable, "KDS rate limit: not asking again for %lld s (Retry-After)",
                                         static_cast<long long>(wait));
            return fall_back(object, std::move(cached), *last_error);
        }
        if (wait > 0) {
            clock().sleep(wait);
            slept = true;
        }
        Attempt attempt = ask(object);
        if (attempt.verdict == Attempt::Verdict::Ok) {
            Fetched fetched;
            fetched.data = std::move(attempt.data);
            fetched.fetched_at = clock().now();
            fetched.url = url;
            if (m_cache) {
                auto stored = m_cache->store(object.cache_key, fetched.data, fetched.fetched_at);
                if (!stored.ok())
                    fetched.cache_error = stored.release_error();
            }
            return fetched;
        }
        if (attempt.verdict == Attempt::Verdict::Final)
            return attempt.error;
        if (attempt.retry_after < 0)  // not rate limited: no point asking again right away
            return fall_back(object, std::move(cached), attempt.error);
        last_error = attempt.error;
    }
    return fall_back(object, std::move(cached), *last_error);
}

int64_t KdsClient::retry_at(const std::string& cache_key)
{
    std::lock_guard lock(m_mutex);
    auto it = m_retry_at.find(cache_key);
    return it == m_retry_at.end() ? 0 : it->second;
}

void KdsClient::pause(const std::string& cache_key, int64_t until)
{
    std::lock_guard lock(m_mutex);
    int64_t now = clock().now();
    for (auto it = m_retry_at.begin(); it != m_retry_at.end();)
        it = it->second <= now ? m_retry_at.erase(it) : std::next(it);
    if (m_retry_at.size() >= MAX_PAUSED_OBJECTS && !m_retry_at.contains(cache_key)) {
        auto first_to_end = std::min_element(m_retry_at.begin(), m_retry_at.end(),
                                             [](const auto& a, const auto& b) { return a.second < b.second; });
        m_retry_at.erase(first_to_end);
    }
    int64_t& at = m_retry_at[cache_key];
    at = std::max(at, until);
}

std::string KdsClient::shown_url(const Object& object) const
{
    return m_base + object.shown_path;
}

namespace {

// Retry-After as delta-seconds (RFC 9110 §10.2.3); an HTTP-date or garbage gives nullopt.
std::optional<int64_t> delta_seconds(std::optional<std::string_view> value)
{
    if (!value || value->empty() || value->size() > 9)
        return std::nullopt;
    int64_t seconds = 0;
    for (char c : *value) {
        if (!isdigit(static_cast<unsigned char>(c)))
            return std::nullopt;
        seconds = seconds * 10 + (c - '0');
    }
    return seconds;
}

bool has_shape(ByteView body, bool der)
{
    if (!der)
        return std::string_view(reinterpret_cast<const char*>(body.data()), body.size())
            .starts_with("-----BEGIN CERTIFICATE-----");
    Reader r(body, "KDS answer");
    return der::read(r, der::SEQUENCE, "outer SEQUENCE").ok() && r.finish().ok();
}

}  // namespace

KdsClient::Attempt KdsClient::ask(const Object& object)
{
    net::HttpOptions http = m_options.http;
    http.limits.max_body_bytes = object.max_size;
    ++m_requests;
    auto response = net::http_get(m_base + object.path, http);
    if (!response.ok()) {
        bool config = response.error().code() == Errc::Config;  // our URL or CA bundle: asking again won't help
        return config ? Attempt::refused(response.release_error()) : Attempt::retryable(response.release_error());
    }
    int status = response->status;
    if (status == 200) {
        bool der = object.shape == Shape::Der;
        if (!has_shape(response->body, der))
            return Attempt::retryable(Error::make(Errc::Network, "KDS answered 200 but not with %s",
                                                  der ? "one DER object" : "PEM certificates"));
        return Attempt::ok(std::move(response->body));
    }
    if (status == 429) {
        auto header = delta_seconds(response->headers.get("Retry-After"));
        int64_t seconds =
            std::min(header.value_or(m_options.default_retry_after_seconds), m_options.max_retry_after_seconds);
        pause(object.cache_key, clock().now() + seconds);
        return Attempt::retryable(Error::make(Errc::Unavailable, "KDS answered 429 (rate limited), Retry-After %lld s",
                                              static_cast<long long>(seconds)),
                                  seconds);
    }
    if (status >= 500)
        return Attempt::retryable(Error::make(Errc::Unavailable, "KDS answered %d", status));
    return Attempt::refused(Error::make(Errc::Network, "KDS answered %d for %s (GET %s)", status, object.what.c_str(),
                                        shown_url(object).c_str()));
}

Result<Fetched> KdsClient::fall_back(const Object& object, std::optional<CacheEntry> cached, Error cause)
{
    if (cached)
        return from_cache(*cached, Source::CacheStale, m_base + object.path, cause);
    return Error::make(Errc::Unavailable, "KDS_UNAVAILABLE: %.*s; no cached %s (GET %s)",
                       static_cast<int>(cause.message().size()), cause.message().data(), object.what.c_str(),
                       shown_url(object).c_str());
}

}  // namespace cvm::kds
