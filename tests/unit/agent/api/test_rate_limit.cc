#include <doctest.h>

#include "api/rate_limit.h"

using namespace cvm::agent::api;
using namespace std::chrono_literals;

TEST_CASE("the token bucket allows the burst, then the rate, and says when to come back")
{
    auto now = std::chrono::steady_clock::time_point{} + 1000s;
    TokenBucket bucket(10, 20, [&now] { return now; });
    for (int i = 0; i < 20; ++i)
        CHECK(bucket.take());
    int64_t retry_after_ms = -1;
    CHECK_FALSE(bucket.take(&retry_after_ms));
    CHECK(retry_after_ms == 100);
    now += 50ms;
    CHECK_FALSE(bucket.take(&retry_after_ms));
    CHECK(retry_after_ms == 50);
    now += 50ms;
    CHECK(bucket.take());
    CHECK_FALSE(bucket.take());
    now += 1h;  // refills to the burst, never beyond
    for (int i = 0; i < 20; ++i)
        CHECK(bucket.take());
    CHECK_FALSE(bucket.take());
}

TEST_CASE("a clock that steps back refills nothing")
{
    auto now = std::chrono::steady_clock::time_point{} + 1000s;
    TokenBucket bucket(10, 1, [&now] { return now; });
    CHECK(bucket.take());
    now -= 10s;
    CHECK_FALSE(bucket.take());
    now += 10s;
    CHECK_FALSE(bucket.take());  // back where it was: still nothing earned
    now += 100ms;
    CHECK(bucket.take());
}
