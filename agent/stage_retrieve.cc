// Stage 6, retrieve: send the evidence; accept the answer only when the broker's Ed25519
// signature verifies with the key pinned on the measured command line and it opens with this
// boot's X25519 key (client::Session). A retryable refusal (KDS_UNAVAILABLE, STORE_UNAVAILABLE,
// NONCE_EXPIRED) or an unreachable broker starts over with a new challenge and report, with the
// same key (retry.h); every other refusal is final. VOLUME_ROLLBACK (the data volume's disk is
// older than the broker's record of it, or blank where the broker knows a volume) gets its own hint.
//
// With cvminit.transport=ratls the evidence travels as the TLS client certificate stage attest
// made (mutual TLS to the https:// broker) and the body carries only nonce, key and request; the
// answer is checked the same way, and the refusals and FATAL lines mean the same.
#include "retry.h"
#include "stages.h"

namespace cvm::agent {

Result<void> challenge(Context& ctx);     // stage_attest.cc
Result<void> fetch_report(Context& ctx);  // stage_attest.cc

Result<std::string> stage_retrieve(Context& ctx)
{
    bool first = true;
    auto done = with_backoff(ctx, "retrieve", [&]() -> Result<void> {
        if (!first) {
            TRY(challenge(ctx));
            TRY(fetch_report(ctx));  // a provider failure is not Unavailable: never retried
        }
        first = false;
        ctx.release = TRY(ctx.transport == cmdline::Transport::Ratls ? ctx.session->complete_ratls(ctx.ratls_identity)
                                                                     : ctx.session->complete(ctx.report, ctx.certs));
        return {};
    });
    if (!done) {
        const auto& refusal = ctx.session ? ctx.session->last_refusal() : std::nullopt;
        if (refusal && refusal->code == proto::ErrorCode::VolumeRollback)
            ctx.fail_hint =
                "the host attached an older copy of the data volume, or a blank disk where the broker knows "
                "one: attach the current disk; to accept this one after checking it, run cvm broker "
                "volume reset NAME on the broker";
        return done.release_error();
    }
    return std::to_string(ctx.release->secrets.size()) + " secrets and " + std::to_string(ctx.release->volumes.size()) +
           " volume keys from " + ctx.broker_url +
           (ctx.transport == cmdline::Transport::Ratls ? " over RA-TLS (evidence in the TLS client certificate)" : "") +
           " (broker signature verified, sealed to this boot's key)";
}

}  // namespace cvm::agent
