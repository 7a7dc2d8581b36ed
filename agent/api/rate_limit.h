// A token bucket for the workload API's report requests: `burst` tokens, refilled at `per_second`,
// one taken per request that will ask the provider. The provider is slow and precious (on hardware
// each report is a PSP round trip, and the API must not let the workload starve the
// re-attestation loop of it), so the excess is refused with 429 rather than queued.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>

namespace cvm::agent::api {

class TokenBucket {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    // `now` is std::chrono::steady_clock::now unless a test gives its own clock.
    TokenBucket(double per_second, double burst, Clock now = {});

    // Takes one token if there is one. When there is not, `retry_after_ms` (when given) is how long
    // until there will be.
    bool take(int64_t* retry_after_ms = nullptr);

private:
    const double m_per_second;
    const double m_burst;
    Clock m_now;
    std::mutex m_mutex;
    double m_tokens;
    std::chrono::steady_clock::time_point m_last;
};

}  // namespace cvm::agent::api
