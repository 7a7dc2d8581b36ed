// Bounded retries for the network steps of attest and retrieve: only failures that retrying can
// cure (Errc::Unavailable: the broker unreachable, KDS_UNAVAILABLE, STORE_UNAVAILABLE,
// NONCE_EXPIRED) are retried, with exponential backoff from 1 s to 16 s, and never past the boot
// deadline. Each retry says why on the console. A report provider's failure never comes through
// here: a firmware error must not be retried.
#pragma once

#include <unistd.h>

#include "console.h"
#include "stages.h"

namespace cvm::agent {

template <typename Step>
Result<void> with_backoff(Context& ctx, const char* stage, Step step)
{
    int64_t backoff_ms = 1000;
    for (int attempt = 1;; ++attempt) {
        Result<void> done = step();
        if (done)
            return done;
        Error error = done.release_error();
        if (error.code() != Errc::Unavailable)
            return error;
        if (ctx.remaining_ms() < backoff_ms)
            return error.prefix("gave up after %d attempts at the boot deadline", attempt);
        say("%s: attempt %d: %.*s; retrying in %lld ms", stage, attempt, static_cast<int>(error.message().size()),
            error.message().data(), static_cast<long long>(backoff_ms));
        usleep(static_cast<useconds_t>(backoff_ms * 1000));
        backoff_ms = std::min<int64_t>(backoff_ms * 2, 16000);
    }
}

}  // namespace cvm::agent
