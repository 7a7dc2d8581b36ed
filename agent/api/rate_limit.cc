#include "api/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace cvm::agent::api {

TokenBucket::TokenBucket(double per_second, double burst, Clock now)
        : m_per_second(per_second), m_burst(burst),
          m_now(now ? std::move(now) : Clock([] { return std::chrono::steady_clock::now(); })), m_tokens(burst),
          m_last(m_now())
{
}

bool TokenBucket::take(int64_t* retry_after_ms)
{
    std::lock_guard lock(m_mutex);
    auto now = m_now();
    double elapsed = std::chrono::duration<double>(now - m_last).count();
    if (elapsed > 0) {  // a clock that stands still or steps back refills nothing
        m_tokens = std::min(m_burst, m_tokens + elapsed * m_per_second);
        m_last = now;
    }
    if (m_tokens >= 1) {
        m_tokens -= 1;
        return true;
    }
    if (retry_after_ms)
        *retry_after_ms = static_cast<int64_t>(std::ceil((1 - m_tokens) / m_per_second * 1000));
    return false;
}

}  // namespace cvm::agent::api
