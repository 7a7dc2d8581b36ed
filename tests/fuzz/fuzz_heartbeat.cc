// libFuzzer harness: the cvmkb/1 heartbeat parsers an untrusted peer reaches — the heartbeat
// request (broker side) and the broker's signed verdict (agent side, proto/heartbeat.h).
// Invariants: a request that parses re-serializes to one that parses to the same fields; a verdict
// opens only with the fixed broker key over the fixed body, and one that opens is re-signed by
// that key to an answer that opens to the same verdict.
#include <cstdlib>
#include <string_view>

#include "proto/heartbeat.h"

namespace {

// The seed corpus's verdicts are signed by the key of this seed over this body (corpus/heartbeat).
const cvm::proto::Ed25519KeyPair& broker()
{
    static const cvm::proto::Ed25519KeyPair key = [] {
        cvm::Secret<cvm::proto::ED25519_SEED_SIZE> seed;
        for (uint8_t& b : seed.expose())
            b = 0x42;
        return cvm::proto::Ed25519KeyPair::from_seed(seed);
    }();
    return key;
}

constexpr std::string_view BODY = "{\"fuzz\":1}";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto r = cvm::proto::parse_heartbeat_request(text); r.ok()) {
        auto again = cvm::proto::parse_heartbeat_request(cvm::proto::serialize_heartbeat_request(r.value()));
        if (!again.ok() || again->canonical_request != r->canonical_request || again->report != r->report ||
            again->certs != r->certs || again->interval != r->interval || again->nonce != r->nonce)
            abort();
    }
    cvm::ByteView body(reinterpret_cast<const uint8_t*>(BODY.data()), BODY.size());
    if (auto v = cvm::proto::open_heartbeat_answer(broker().public_key(), body, text); v.ok()) {
        auto signed_again = cvm::proto::serialize_heartbeat_answer(broker(), body, v.value(), false);
        if (!signed_again.ok())
            abort();
        auto reopened = cvm::proto::open_heartbeat_answer(broker().public_key(), body, signed_again.value());
        if (!reopened.ok() || reopened->accepted != v->accepted || reopened->report_id != v->report_id ||
            reopened->interval != v->interval || reopened->refusal.has_value() != v->refusal.has_value() ||
            (v->refusal &&
             (reopened->refusal->code != v->refusal->code || reopened->refusal->claim != v->refusal->claim ||
              reopened->refusal->detail != v->refusal->detail)))
            abort();
    }
    return 0;
}
