// cvm verify: report + certificates + policy -> one claim per check and a verdict.
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "args.h"
#include "base/file.h"
#include "base/toml_reader.h"
#include "commands.h"
#include "crl_source.h"
#include "evidence_files.h"
#include "kds_evidence.h"
#include "policy/policy.h"
#include "policy/policy_toml.h"
#include "proto/tags.h"
#include "ratls/ratls.h"
#include "verify/verifier.h"
#include "verify_bindings.h"
#include "verify_output.h"
#include "verify_release.h"
#include "verify_setup.h"

namespace cvm::cli {

namespace {

constexpr const char* USAGE = R"(usage: cvm verify --report FILE (--certs DIR | --cert-table FILE | --kds) [options]
       cvm verify --ratls CERT [--nonce HEX] [--binding workload|agent-key|broker] [options]

Verifies an AMD SEV-SNP ATTESTATION_REPORT: its VCEK/VLEK certificate chain up to AMD's
built-in root for the product, the report signature, the binding of the certificate to the
report (TCB, chip ID, product), and a policy. Prints one line per claim and exits 0 only when
every claim passes.

evidence:
  --report FILE        raw 1184-byte report
  --certs DIR          vcek.der or vlek.der, and ask_ark.pem or ask.pem/asvk.pem + ark.pem
                       (PEM or DER; ASK and ARK optional: AMD's built-in ones are used)
  --cert-table FILE    GUID certificate table (SNP_GET_EXT_REPORT buffer, configfs-tsm auxblob)
  --kds                fetch the VCEK and the ASK/ARK chain from AMD's Key Distribution Service

  --user-data HEX      also require REPORT_DATA to be the workload user-data binding of HEX
                       (0 to 64 bytes): evidence from the agent's POST /v1/evidence (claim
                       binding.user_data; docs/agent-api.md)

releases (docs/verify.md, "Releases"; claims release.*):
  --release BUNDLE     require MEASUREMENT to be a shape of this signed release (cvm release's
                       Sigstore bundle), unexpired at --at TIME or now
  --release-key PUB    the release key (PEM) the bundle must be signed with; needed by --release
  --require-tlog       require a verified transparency-log (Rekor) entry in the bundle
  --release-trusted-root FILE
                       the Sigstore trusted root (JSON) whose Rekor keys sign the log entries;
                       needed by --require-tlog and by any bundle that carries entries

RA-TLS (docs/ratls.md):
  --ratls CERT         an RA-TLS certificate (PEM or DER) instead of a report: its evidence, the
                       binding of its reports to its key and its signer's, one launch for both,
                       and the policy on its subject report (claims ratls.*, issuer.*)
  --nonce HEX          require the evidence to bind this nonce (1 to 64 bytes); without it,
                       ratls.nonce says freshness was not checked
  --binding NAME       the binding the certificate must carry: workload (default: a
                       workload's POST /v1/tls-certificate), agent-key (the agent's own
                       certificate), broker (the agent's client certificate for a broker; the
                       nonce is then the 64-byte cvmkb/1 report_data)

KDS (with --kds):
  --kds-url URL        KDS base URL (default https://kdsintf.amd.com)
  --cache-dir DIR      certificate cache (default $XDG_CACHE_HOME/cvm/kds or ~/.cache/cvm/kds);
                       a fresh entry is used without asking KDS, a stale one when KDS fails
  --cache-ttl SECONDS  how long a cached certificate is fresh (default 86400)
  --offline            never ask KDS; use the cache, however old

trust and policy:
  --policy FILE        TOML policy: expected measurements, TCB minimums, VMPL, ...; or a broker
                       configuration (docs/broker.md), whose [policy] is used. Without it, the
                       baseline applies: authentic, no DEBUG, no migration agent
  --product NAME       require this product line (Milan, Genoa, Turin); default: from the evidence
  --trusted-root FILE  also trust this root certificate (e.g. the simulated ARK of `cvm sim`);
                       may be repeated
  --sim-dir DIR        a platform of `cvm sim init`: --trusted-root DIR/ark.pem and, unless
                       --crl or --no-revocation is given, --crl DIR/crl.der
  --check-dates        require every certificate to be valid now (host clock; off by default,
                       since AMD certificate validity says little about a report)

revocation (claim chain.revocation; on by default):
  --crl FILE           the ARK-signed CRL to check the chain against (DER or PEM); needed for a
                       --trusted-root chain (a simulated platform's DIR/crl.der). Default for
                       AMD-rooted evidence: KDS /vcek|vlek/v1/{product}/crl, through the same
                       cache (--kds-url, --cache-dir, --cache-ttl, --offline)
  --no-revocation      do not check revocation (the claim shows who turned it off); a policy
                       with revocation = false does the same
  --at TIME            check the CRL's dates (and --check-dates) at TIME, seconds since the
                       epoch or YYYY-MM-DD[THH:MM:SSZ] UTC, instead of the host clock: for
                       evidence and CRLs archived together

output:
  --json               the document cvm.verify/2: verdict, every report field typed, and every
                       claim with pass, found, expected and reason (docs/verify.md)
  -h, --help           this text

cvm verify --print-policy strict [--allow-smt]
  prints the recommended production policy as a policy file (measurements to fill in); SMT is
  forbidden unless --allow-smt

What each claim means, what is left to the caller, the policy file's keys: docs/verify.md.

exit status: 0 every claim passed, 1 evidence rejected, 2 usage or input error
)";

std::vector<FlagSpec> flags()
{
    std::vector<FlagSpec> f = {
        {"report", Takes::Value},    {"certs", Takes::Value},        {"cert-table", Takes::Value},
        {"kds", Takes::Nothing},     {"print-policy", Takes::Value}, {"allow-smt", Takes::Nothing},
        {"user-data", Takes::Value}, {"ratls", Takes::Value},        {"nonce", Takes::Value},
        {"binding", Takes::Value},
    };
    f.insert(f.end(), verify_setup_flags().begin(), verify_setup_flags().end());
    f.insert(f.end(), verify_release_flags().begin(), verify_release_flags().end());
    return f;
}

int usage_error(const Error& e)
{
    return usage_failure("verify", e);
}

Result<verify::Evidence> load_evidence(const Args& args)
{
    auto report_path = args.get("report");
    if (!report_path)
        return Error::make(Errc::Config, "needs --report FILE (see cvm verify --help)");
    Bytes report = TRY(read_file(*report_path, MAX_EVIDENCE_FILE));
    int sources = args.has("certs") + args.has("cert-table") + args.has("kds");
    if (sources != 1)
        return Error::make(Errc::Config, "needs exactly one of --certs DIR, --cert-table FILE and --kds");
    if (auto table_path = args.get("cert-table")) {
        Bytes table = TRY(read_file(*table_path, MAX_EVIDENCE_FILE));
        return verify::evidence_from_cert_table(report, table);
    }
    if (args.has("kds"))
        return evidence_from_kds(std::move(report), TRY(kds_settings(args)));
    verify::Evidence evidence;
    evidence.report = std::move(report);
    TRY(load_cert_dir(*args.get("certs"), evidence));
    return evidence;
}

// --print-policy PROFILE: the profile as a policy file. Every other flag but --allow-smt is
// refused, so a command line that meant to verify something does not silently print instead.
int print_policy(const Args& args)
{
    std::string profile = *args.get("print-policy");
    if (profile != "strict")
        return usage_error(Error::make(Errc::Config, "--print-policy %s: expected strict", profile.c_str()));
    auto refused = refuse_flags(args, "--print-policy",
                                {"report",       "certs",     "cert-table",  "kds",          "kds-url",
                                 "cache-dir",    "cache-ttl", "offline",     "policy",       "product",
                                 "trusted-root", "json",      "check-dates", "crl",          "no-revocation",
                                 "at",           "sim-dir",   "user-data",   "ratls",        "nonce",
                                 "binding",      "release",   "release-key", "require-tlog", "release-trusted-root"});
    if (!refused.ok())
        return usage_error(refused.error());
    fputs(policy::to_toml(policy::Policy::strict(args.has("allow-smt"))).c_str(), stdout);
    return EXIT_OK;
}

// --user-data HEX: 0..64 bytes ("" is the empty user data).
Result<std::optional<Bytes>> user_data_option(const Args& args)
{
    auto hex = args.get("user-data");
    if (!hex)
        return std::optional<Bytes>();
    auto bytes = from_hex(*hex);
    if (!bytes || bytes->size() > proto::MAX_USER_DATA)
        return Error::make(Errc::Config, "--user-data %s: expected 0 to %zu bytes in hex", hex->c_str(),
                           proto::MAX_USER_DATA);
    return std::optional<Bytes>(std::move(*bytes));
}

int print_outcome(const Args& args, const VerifyOutcome& outcome)
{
    if (args.has("json"))
        print_json(stdout, outcome);
    else
        print_text(stdout, outcome);
    return outcome.pass() ? EXIT_OK : EXIT_REJECTED;
}

// --ratls FILE: an RA-TLS certificate instead of a report and its certificates.
int verify_certificate_file(const Args& args)
{
    auto refused = refuse_flags(args, "--ratls",
                                {"report", "certs", "cert-table", "kds", "user-data", "release", "release-key",
                                 "require-tlog", "release-trusted-root"});
    if (!refused.ok())
        return usage_error(refused.error());
    std::string path = *args.get("ratls");
    auto text = read_file(path, MAX_EVIDENCE_FILE);
    auto cert = text.ok() ? ratls::parse_certificate(text.value()) : Result<ratls::Certificate>(text.error());
    if (!cert.ok()) {
        // A certificate that is not RA-TLS is rejected evidence, not a usage error.
        fprintf(stderr, "cvm verify: %s: %.*s\n", path.c_str(), static_cast<int>(cert.error().message().size()),
                cert.error().message().data());
        return text.ok() ? EXIT_REJECTED : EXIT_USAGE;
    }
    auto expect = ratls_expectation(args, proto::MAX_RATLS_NONCE);
    auto setup = expect.ok() ? verify_setup(args) : Result<VerifySetup>(expect.error());
    if (!setup.ok())
        return usage_error(setup.error());
    auto outcome = verify_ratls(cert.value(), expect.value(), setup.value());
    if (!outcome.ok())
        return usage_error(outcome.error());
    return print_outcome(args, outcome.value());
}

}  // namespace

int cmd_verify(const std::vector<std::string>& argv)
{
    auto parsed = parse_command("verify", argv, flags(), USAGE, Positional::None);
    if (const int* status = std::get_if<int>(&parsed))
        return *status;
    const Args& args = std::get<Args>(parsed);
    if (args.has("print-policy"))
        return print_policy(args);
    if (args.has("allow-smt"))
        return usage_error(Error::make(Errc::Config, "--allow-smt goes with --print-policy strict; a policy file "
                                                     "says allow_smt"));
    if (args.has("ratls"))
        return verify_certificate_file(args);
    auto refused = refuse_flags(args, "cvm verify without --ratls", {"nonce", "binding"});
    if (!refused.ok())
        return usage_error(refused.error());

    auto evidence = load_evidence(args);
    auto setup = evidence.ok() ? verify_setup(args) : Result<VerifySetup>(evidence.error());
    auto user_data = user_data_option(args);
    auto release = release_input(args);
    for (const Error* e : {evidence.ok() ? nullptr : &evidence.error(), setup.ok() ? nullptr : &setup.error(),
                           user_data.ok() ? nullptr : &user_data.error(), release.ok() ? nullptr : &release.error()}) {
        if (e)
            return usage_error(*e);
    }
    const VerifySetup& s = setup.value();
    auto verified = verify_with_revocation(*s.verifier, evidence.value(), s.options, s.revocation);
    if (!verified.ok())
        return usage_error(verified.error());
    verify::Verification v = verified.release_value();
    std::vector<Claim> extra;
    if (user_data.value())
        extra.push_back(user_data_claim(v.report, *user_data.value()));
    if (release.value()) {
        int64_t now = s.revocation.at ? static_cast<int64_t>(*s.revocation.at) : static_cast<int64_t>(time(nullptr));
        for (Claim& c : release_claims(*release.value(), v.report, now))
            extra.push_back(std::move(c));
    }
    return print_outcome(args, outcome_of(v, s, std::move(extra)));
}

}  // namespace cvm::cli
