// libFuzzer harness: every cvmkb/1 message parser an untrusted peer reaches — the attest request
// (broker side), the challenge, answer and error objects and the sealed release (agent side).
// Invariant: an attest request that parses re-serializes to one that parses to the same fields.
#include <cstdlib>
#include <string_view>

#include "proto/messages.h"
#include "proto/release.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto r = cvm::proto::parse_attest_request(text); r.ok()) {
        auto again = cvm::proto::parse_attest_request(cvm::proto::serialize_attest_request(r.value()));
        if (!again.ok() || again->canonical_request != r->canonical_request || again->report != r->report ||
            again->certs != r->certs || again->resources != r->resources)
            abort();
    }
    (void)cvm::proto::parse_challenge(text);
    (void)cvm::proto::check_challenge_request(text);
    (void)cvm::proto::parse_attest_answer(text);
    (void)cvm::proto::parse_error(text);
    (void)cvm::proto::parse_release({data, size});
    return 0;
}
