// The AMD KDS client: VCEKs, certificate chains and CRLs, through an on-disk cache with a TTL
// and a stale fallback, respecting KDS rate limits.
//
// Policy, per object:
//   1. a cached copy younger than ttl_seconds is returned without touching the network
//      (Source::CacheFresh);
//   2. Offline mode stops here: an older cached copy is returned as Source::CacheStale, none is
//      Errc::Config naming the object and the cache directory;
//   3. otherwise KDS is asked; a 200 whose body has the expected shape (one DER SEQUENCE, or PEM
//      certificates) is cached and returned (Source::Network);
//   4. if KDS cannot be reached, times out, answers 5xx or 429, or sends a malformed answer,
//      the cached copy is returned as Source::CacheStale with the cause in refresh_error; with
//      no cached copy the call fails with Errc::Unavailable ("KDS_UNAVAILABLE", retryable)
//      naming the cause and the URL. Any other status (404: no such chip or TCB) fails with
//      Errc::Network and no fallback, as does an Errc::Config failure of the HTTP client (an
//      unreadable CA bundle): neither goes away by itself.
// A damaged cache entry counts as missing online (the fetch replaces it); offline it is the
// Errc::Format error naming the file.
// HTTP 429: Retry-After (delta-seconds; else default_retry_after_seconds; at most
// max_retry_after_seconds) is remembered for the object it answered — one VCEK (chip and TCB),
// or one product's chain or CRL — and until it passes no call asks KDS for that object again;
// other objects are still asked, so a flood of look-ups for unknown chips that KDS rate-limits
// does not lock out the chips that follow. A call that meets its object's window sleeps it out
// (then asks) only when it is at most max_retry_wait_seconds; otherwise it falls back as in 4.
// At most MAX_PAUSED_OBJECTS windows are remembered (the one ending first is forgotten).
//
// The bytes are untrusted: this layer checks their size (before reading them) and shape, never
// their signatures; the verify layer does. Thread-safe; cache files are replaced atomically.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kds/cache.h"
#include "kds/clock.h"
#include "kds/kds_url.h"
#include "net/http_client.h"

namespace cvm::kds {

inline constexpr size_t MAX_VCEK_SIZE = 16 * 1024;
inline constexpr size_t MAX_CERT_CHAIN_SIZE = 64 * 1024;
inline constexpr size_t MAX_CRL_SIZE = 1024 * 1024;
inline constexpr size_t MAX_PAUSED_OBJECTS = 4096;

enum class Source : uint8_t { CacheFresh, Network, CacheStale };
std::string_view source_name(Source source);  // "cache-fresh", "network", "cache-stale"

enum class Mode : uint8_t { Online, Offline };

struct KdsOptions {
    std::string base_url = DEFAULT_BASE_URL;  // http(s)://host[:port][/prefix], no query
    std::string cache_dir;                    // "": no cache, hence no stale fallback
    int64_t ttl_seconds = 24 * 3600;
    Mode mode = Mode::Online;
    int64_t max_retry_wait_seconds = 0;  // longest a call sleeps for a Retry-After window
    int64_t default_retry_after_seconds = 60;
    int64_t max_retry_after_seconds = 3600;
    net::HttpOptions http;   // timeouts and CA bundle; body bounds are set per object
    Clock* clock = nullptr;  // nullptr: system_clock(); otherwise must outlive the client
};

struct Fetched {
    Bytes data;  // DER (VCEK, CRL) or PEM (cert_chain), not verified
    Source source{Source::Network};
    int64_t fetched_at{0};  // when these bytes came from KDS, seconds since the epoch
    std::string url;
    std::optional<Error> refresh_error;  // CacheStale: why KDS was not asked or did not answer
    std::optional<Error> cache_error;    // Network: the copy could not be cached (next call asks again)
};

class KdsClient {
public:
    // Errc::Config for a bad base URL, Offline mode without a cache directory, or a cache
    // directory that cannot be created.
    static Result<std::unique_ptr<KdsClient>> create(KdsOptions options);

    Result<Fetched> vcek(const VcekId& id);
    Result<Fetched> cert_chain(snp::Product product, KeyFamily family);
    Result<Fetched> crl(snp::Product product, KeyFamily family);

    // Requests sent to KDS so far.
    uint64_t requests_sent() const { return m_requests.load(); }

private:
    enum class Shape : uint8_t { Der, Pem };
    struct Object {
        std::string what;        // "VCEK", "CRL", for messages
        std::string path;        // request path
        std::string shown_path;  // the path for messages: a VCEK's hwid shortened to 16 hex digits
        std::string cache_key;
        size_t max_size;
        Shape shape;
    };
    struct Attempt;

    KdsClient(KdsOptions options, std::optional<KdsCache> cache, std::string base)
            : m_options(std::move(options)), m_cache(std::move(cache)), m_base(std::move(base))
    {
    }
    Result<Fetched> get(const Object& object);
    Attempt ask(const Object& object);
    Result<Fetched> fall_back(const Object& object, std::optional<CacheEntry> cached, Error cause);
    std::string shown_url(const Object& object) const;  // base URL + shown_path
    Clock& clock() { return m_options.clock ? *m_options.clock : system_clock(); }

    KdsOptions m_options;
    std::optional<KdsCache> m_cache;
    std::string m_base;  // base URL without a trailing '/'
    std::atomic<uint64_t> m_requests{0};
    int64_t retry_at(const std::string& cache_key);
    void pause(const std::string& cache_key, int64_t until);

    std::mutex m_mutex;                         // guards m_retry_at
    std::map<std::string, int64_t> m_retry_at;  // by cache key: no request for it before then (429)
};

}  // namespace cvm::kds
