#include "kds/clock.h"

#include <time.h>

#include <cerrno>

namespace cvm::kds {

namespace {

class SystemClock final : public Clock {
public:
    int64_t now() override { return static_cast<int64_t>(time(nullptr)); }
    void sleep(int64_t seconds) override
    {
        if (seconds <= 0)
            return;
        timespec left{static_cast<time_t>(seconds), 0};
        while (nanosleep(&left, &left) != 0 && errno == EINTR) {
        }
    }
};

}  // namespace

Clock& system_clock()
{
    static SystemClock clock;
    return clock;
}

}  // namespace cvm::kds
