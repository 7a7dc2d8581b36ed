// Wall-clock time for cache ages and Retry-After windows, behind an interface so tests can move
// time without sleeping. Seconds since the Unix epoch: cache entries outlive the process.
#pragma once

#include <cstdint>

namespace cvm::kds {

class Clock {
public:
    virtual ~Clock() = default;
    virtual int64_t now() = 0;
    virtual void sleep(int64_t seconds) = 0;
};

// The real clock (CLOCK_REALTIME, nanosleep). Shared and stateless.
Clock& system_clock();

}  // namespace cvm::kds
