// Stage 5, attest: this boot's X25519 key pair (made once, kept across retries) and a challenge
// from the broker (client::Session), then a report whose REPORT_DATA binds the nonce, the key and
// the request, from the first available provider: configfs-tsm, /dev/sev-guest, or — only with
// cvminit.simulate=1 on the measured command line — the simulated PSP. The challenge is retried
// (retry.h); the provider never is: a firmware error wipes the guest's VMPCK (DESIGN.md §2).
//
// With cvminit.transport=ratls the report binds a fresh P-256 key to that cvmkb/1 binding instead
// (proto::ratls_broker) and goes into a self-signed RA-TLS certificate for the key
// (client/ratls_credential.h), which stage retrieve presents over mutual TLS.
//
// With cvminit.broker_protocol=kbs the challenge is Trustee's RCAR auth (client/kbs_session.h):
// a fresh P-256 TEE key per handshake, and REPORT_DATA = SHA-384 of the JCS form of the KBS's
// nonce and that key, as guest-components binds them.
#include <ctime>

#include "client/ratls_credential.h"
#include "retry.h"
#include "snp/cert_table.h"
#include "stages.h"

namespace cvm::agent {

// The KBS handshake: a new session (key, cookie, nonce) every time; the old one is wiped first.
Result<void> kbs_challenge(Context& ctx)
{
    client::KbsOptions options;
    options.url = ctx.broker_url;
    for (const auto& [name, path] : ctx.kbs_paths)
        options.resources.push_back({name, path, ctx.data && ctx.data->key_name == name});
    if (!ctx.initdata_text.empty())
        options.initdata_toml = ctx.initdata_text;
    options.http.connect_timeout_ms = 5000;
    options.http.ca_file = ctx.broker_ca_file;
    options.http.total_timeout_ms = 30000;
    options.deadline = ctx.deadline;  // every request of the session, not only this one
    ctx.kbs_session.reset();
    ctx.kbs_session = TRY_PREFIX(client::KbsSession::begin(options), "KBS handshake with %s", ctx.broker_url.c_str());
    return {};
}

Result<void> challenge(Context& ctx)
{
    if (ctx.broker_protocol == cmdline::BrokerProtocol::Kbs)
        return kbs_challenge(ctx);
    client::ClientOptions options;
    options.broker_url = ctx.broker_url;
    options.broker_key = ctx.broker_key;
    options.resources = ctx.resources;
    if (ctx.data_report)
        options.volumes = {*ctx.data_report};
    options.http.connect_timeout_ms = 5000;
    options.http.ca_file = ctx.broker_ca_file;
    options.http.total_timeout_ms = std::min<int64_t>(30000, std::max<int64_t>(1000, ctx.remaining_ms()));
    // One key per boot: a retry after a lost answer presents the key the broker may already have
    // recorded for a once_per_launch resource of this launch (docs/cvmkb-1.md §5). The old
    // session (and its key) stays until a new one is made.
    auto next = ctx.session ? client::Session::begin(options, ctx.session->key()) : client::Session::begin(options);
    if (!next)
        return next.release_error().prefix("challenge from %s", ctx.broker_url.c_str());
    ctx.session.reset();  // wiped before it is replaced
    ctx.session = next.release_value();
    return {};
}

Result<void> fetch_report(Context& ctx)
{
    std::optional<client::RatlsCredential> credential;
    ctx.ratls_identity.reset();
    if (ctx.transport == cmdline::Transport::Ratls)
        credential = TRY(client::RatlsCredential::create(ctx.session->report_data()));
    const proto::ReportData& bound = credential        ? credential->report_data()
                                     : ctx.kbs_session ? ctx.kbs_session->report_data()
                                                       : ctx.session->report_data();
    auto got = ctx.provider->get_report(bound);
    if (!got) {
        // Whatever the provider says, retry.h must not retry it: a firmware error wipes the VMPCK.
        Error e = got.release_error();
        return Error::make(e.code() == Errc::Unavailable ? Errc::Io : e.code(), "%s report: %.*s", ctx.provider->name(),
                           static_cast<int>(e.message().size()), e.message().data());
    }
    Evidence evidence = got.release_value();
    ctx.report = std::move(evidence.report);
    ctx.certs.clear();
    if (!evidence.cert_table.empty())
        ctx.certs = TRY_PREFIX(snp::parse_cert_table(evidence.cert_table), "certificate table");
    if (credential)
        ctx.ratls_identity =
            TRY(credential->certify(ctx.report, snp::cert_ders(ctx.certs), ctx.provider->name(), std::time(nullptr)));
    return {};
}

Result<void> open_provider(Context& ctx)
{
    if (ctx.provider)
        return {};
    ProviderPaths paths;
    paths.configfs_root = ctx.root + paths.configfs_root;
    paths.sev_guest_device = ctx.root + paths.sev_guest_device;
    paths.fw_cfg_root = ctx.root + paths.fw_cfg_root;
    auto provider = choose_provider(paths, ctx.simulate);
    if (!provider) {
        ctx.fail_hint = provider.error().code() == Errc::Config
                            ? "simulation needs cvm initramfs --platform sim and cvm launch --simulate"
                            : "an SEV-SNP guest needs sev-guest (cvm initramfs --platform snp); in development "
                              "cvminit.simulate=1";
        return provider.release_error();
    }
    ctx.provider = provider.release_value();
    return {};
}

Result<std::string> stage_attest(Context& ctx)
{
    TRY(open_provider(ctx));  // already open when stage initdata asked for a report
    ctx.fail_hint = "is cvminit.broker reachable from the VM, and is the broker running?";
    TRY(with_backoff(ctx, "attest", [&] { return challenge(ctx); }));
    ctx.fail_hint = "the PSP or the host refused the report request; the message says whether only a reboot helps";
    TRY(fetch_report(ctx));
    ctx.fail_hint = nullptr;
    bool kbs = ctx.broker_protocol == cmdline::BrokerProtocol::Kbs;
    return std::string("report from ") + ctx.provider->name() + (ctx.simulate ? " (SIMULATED platform)" : "") + ", " +
           std::to_string(ctx.certs.size()) + " certificates, bound to " +
           (kbs ? "the KBS's nonce and a fresh P-256 TEE key (RCAR)" : "a fresh nonce and X25519 key") +
           (ctx.ratls_identity ? " and a fresh TLS key, in an RA-TLS client certificate" : "");
}

}  // namespace cvm::agent
