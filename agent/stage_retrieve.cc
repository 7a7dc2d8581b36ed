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
//
// With cvminit.broker_protocol=kbs the evidence goes to Trustee's /kbs/v0/attest and each
// resource comes from /kbs/v0/resource as a JWE opened with the session's TEE key
// (client/kbs_session.h). A 401 (an expired or unknown session, a refused attestation, a resource
// policy's denial or, in Trustee, a resource it does not have) is answered by one new handshake —
// session, report, attestation — while the deadline allows; a second 401 is final. Nothing else
// from a KBS is retried but what the transport marks retryable.
#include "retry.h"
#include "stages.h"

namespace cvm::agent {

Result<void> challenge(Context& ctx);     // stage_attest.cc
Result<void> fetch_report(Context& ctx);  // stage_attest.cc

namespace {

const char* kbs_hint(bool handshake, bool report, bool redo, bool redone, int status, const Error& e)
{
    if (handshake)
        return e.code() == Errc::Policy ? "the KBS refused a new handshake: the message says why"
                                        : "is cvminit.broker reachable from the VM, and is the KBS running?";
    if (report)
        return "the PSP or the host refused the report request; the message says whether only a reboot helps";
    if (status == 401 && redone)
        return "the KBS refused this VM after a new handshake: its attestation or resource policy, or (Trustee "
               "answers 401 for it too) a resource it does not hold; the KBS's log says which";
    if (status == 401 && redo)
        return "the KBS refused this VM, and the deadline left no time for a new handshake";
    if (status == 404)
        return "the KBS has no such resource path: check secrets.kbs_paths";
    if (e.code() == Errc::Crypto)
        return "a resource was not encrypted to this handshake's TEE key: the KBS, or whatever answers in its place, "
               "is not the one this VM attested to";
    return "is cvminit.broker reachable from the VM, and is the KBS running?";
}

Result<std::string> kbs_retrieve(Context& ctx)
{
    bool first = true;
    bool redo = false;    // a 401 asked for a new handshake
    bool redone = false;  // and one was made
    bool in_handshake = false, in_report = false;
    int status = 0;  // of the last refusal a session saw
    auto done = with_backoff(ctx, "retrieve", [&]() -> Result<void> {
        if (!first) {
            in_handshake = true;
            TRY(challenge(ctx));
            in_handshake = false;
            in_report = true;
            TRY(fetch_report(ctx));  // a provider failure is not Unavailable: never retried
            in_report = false;
            redone = redo;
        }
        first = false;
        auto released = [&]() -> Result<proto::Release> {
            TRY(ctx.kbs_session->attest(ctx.report, ctx.certs));
            return ctx.kbs_session->fetch();
        }();
        if (released) {
            ctx.release = released.release_value();
            return {};
        }
        Error e = released.release_error();
        status = ctx.kbs_session->last_status();
        if (status != 401 || redo)
            return e;
        redo = true;  // once: a fresh session may cure an expired one, nothing else
        return Error::make(Errc::Unavailable, "%.*s; a new handshake", static_cast<int>(e.message().size()),
                           e.message().data());
    });
    if (!done) {
        Error e = done.release_error();
        ctx.fail_hint = kbs_hint(in_handshake, in_report, redo, redone, status, e);
        return e;
    }
    return std::to_string(ctx.release->secrets.size()) + " secrets and " + std::to_string(ctx.release->volumes.size()) +
           " volume keys from the KBS at " + ctx.broker_url +
           " (RCAR 0.4.0; each a JWE opened with this handshake's TEE key)";
}

}  // namespace

Result<std::string> stage_retrieve(Context& ctx)
{
    if (ctx.broker_protocol == cmdline::BrokerProtocol::Kbs)
        return kbs_retrieve(ctx);
    bool first = true;
    auto done = with_backoff(ctx, "retrieve", [&]() -> Result<void> {
        if (!first) {
            TRY(challenge(ctx));
            TRY(fetch_report(ctx));  // a provider failure is not Unavailable: never retried
        }
        first = false;
        ctx.release = TRY(ctx.transport == cmdline::Transport::Ratls
                              ? ctx.session->complete_ratls(ctx.ratls_identity)
                              : ctx.session->complete(ctx.report, snp::cert_ders(ctx.certs)));
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
