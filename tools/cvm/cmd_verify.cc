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
#include "verify/verifier.h"
#include "verify_output.h"

namespace cvm::cli {

namespace {

constexpr const char* USAGE = R"(usage: cvm verify --report FILE (--certs DIR | --cert-table FILE | --kds) [options]

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

const std::vector<FlagSpec> FLAGS = {
    {"report", Takes::Value},        {"certs", Takes::Value},           {"cert-table", Takes::Value},
    {"kds", Takes::Nothing},         {"kds-url", Takes::Value},         {"cache-dir", Takes::Value},
    {"cache-ttl", Takes::Value},     {"offline", Takes::Nothing},       {"policy", Takes::Value},
    {"product", Takes::Value},       {"trusted-root", Takes::Values},   {"json", Takes::Nothing},
    {"check-dates", Takes::Nothing}, {"print-policy", Takes::Value},    {"allow-smt", Takes::Nothing},
    {"crl", Takes::Value},           {"no-revocation", Takes::Nothing}, {"at", Takes::Value},
};

int usage_error(const Error& e)
{
    return usage_failure("verify", e);
}

Result<std::optional<snp::Product>> product_option(const Args& args)
{
    auto name = args.get("product");
    if (!name)
        return std::optional<snp::Product>();
    auto product = snp::product_from_name(*name);
    if (!product || *name != snp::product_name(*product))
        return Error::make(Errc::Config, "--product %s: expected Milan, Genoa or Turin", name->c_str());
    return product;
}

Result<KdsSettings> kds_settings(const Args& args)
{
    KdsSettings s;
    s.product = TRY(product_option(args));
    if (auto url = args.get("kds-url"))
        s.options.base_url = *url;
    s.options.cache_dir = args.get("cache-dir").value_or(default_kds_cache_dir());
    if (auto ttl = args.get("cache-ttl")) {
        char* end = nullptr;
        long long v = strtoll(ttl->c_str(), &end, 10);
        if (ttl->empty() || *end != '\0' || v < 0)
            return Error::make(Errc::Config, "--cache-ttl %s: expected a number of seconds", ttl->c_str());
        s.options.ttl_seconds = v;
    }
    if (args.has("offline"))
        s.options.mode = kds::Mode::Offline;
    return s;
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

Result<std::unique_ptr<verify::Verifier>> make_verifier(const Args& args)
{
    verify::VerifierOptions options;
    for (const std::string& path : args.all("trusted-root")) {
        Bytes der = TRY(read_file(path, MAX_EVIDENCE_FILE));
        auto root = verify::Certificate::parse(der);
        if (!root.ok())
            return root.release_error().prefix("--trusted-root %s", path.c_str());
        options.trusted_roots.push_back(root.release_value());
    }
    return verify::Verifier::create(std::move(options));
}

// A policy file, or a broker configuration (docs/broker.md, recognised by its `listen` key),
// whose [policy] table is then the policy: the same checks the broker applies.
Result<policy::Policy> broker_config_policy(std::string_view text)
{
    toml::table root = TRY(parse_toml(text, "policy"));
    if (!root.contains("listen"))
        return policy::parse_policy_toml(text);
    const toml::table* table = root["policy"].as_table();
    if (!table)
        return Error::make(Errc::Config, "a broker configuration (it has 'listen') without a [policy] table");
    return policy::parse_policy_table(*table);
}

Result<policy::Policy> load_policy(const Args& args)
{
    auto path = args.get("policy");
    if (!path)
        return policy::Policy::baseline();
    std::string text = TRY(read_text_file(*path, MAX_EVIDENCE_FILE));
    auto parsed = broker_config_policy(text);
    if (!parsed.ok())
        return parsed.release_error().prefix("%s", path->c_str());
    return parsed;
}

Result<verify::VerifyOptions> verify_options(const Args& args)
{
    verify::VerifyOptions options;
    options.product = TRY(product_option(args));
    if (args.has("check-dates"))
        options.now = time(nullptr);
    return options;
}

// --print-policy PROFILE: the profile as a policy file. Every other flag but --allow-smt is
// refused, so a command line that meant to verify something does not silently print instead.
int print_policy(const Args& args)
{
    std::string profile = *args.get("print-policy");
    if (profile != "strict")
        return usage_error(Error::make(Errc::Config, "--print-policy %s: expected strict", profile.c_str()));
    auto refused =
        refuse_flags(args, "--print-policy",
                     {"report", "certs", "cert-table", "kds", "kds-url", "cache-dir", "cache-ttl", "offline", "policy",
                      "product", "trusted-root", "json", "check-dates", "crl", "no-revocation", "at"});
    if (!refused.ok())
        return usage_error(refused.error());
    fputs(policy::to_toml(policy::Policy::strict(args.has("allow-smt"))).c_str(), stdout);
    return EXIT_OK;
}

// Certificate dates are checked only on request (--check-dates); without it the claim says so and
// passes, so that every claim of the document is one this run decided (verify_output.h).
Claim dates_not_requested()
{
    return {"chain.validity", true, "not required (no --check-dates)", "valid now, with --check-dates",
            "certificate dates are checked only with --check-dates (docs/verify.md)"};
}

VerifyOutcome outcome_of(const verify::Verification& v, const policy::Policy& pol, bool dates_checked)
{
    std::vector<Claim> claims = v.claims;
    if (!dates_checked)
        claims.push_back(dates_not_requested());
    std::vector<Claim> policy_claims;
    if (v.report && v.product) {
        auto origin = v.anchor == verify::Anchor::CallerSupplied ? policy::Origin::Simulated : policy::Origin::Amd;
        policy_claims = policy::evaluate(pol, *v.report, *v.product, origin);
    } else {
        policy_claims = policy::not_evaluated("the report or its product line could not be established");
    }
    claims.insert(claims.end(), policy_claims.begin(), policy_claims.end());
    VerifyOutcome outcome{every_claim(claims), v.report, v.product, v.vek_kind};
    outcome.simulated = v.anchor == verify::Anchor::CallerSupplied;
    return outcome;
}

}  // namespace

int cmd_verify(const std::vector<std::string>& argv)
{
    auto parsed = parse_command("verify", argv, FLAGS, USAGE, Positional::None);
    if (const int* status = std::get_if<int>(&parsed))
        return *status;
    const Args& args = std::get<Args>(parsed);
    if (args.has("print-policy"))
        return print_policy(args);
    if (args.has("allow-smt"))
        return usage_error(Error::make(Errc::Config, "--allow-smt goes with --print-policy strict; a policy file "
                                                     "says allow_smt"));

    auto evidence = load_evidence(args);
    auto verifier = evidence.ok() ? make_verifier(args) : Result<std::unique_ptr<verify::Verifier>>(evidence.error());
    auto pol = load_policy(args);
    auto options = verify_options(args);
    for (const Error* e : {evidence.ok() ? nullptr : &evidence.error(), verifier.ok() ? nullptr : &verifier.error(),
                           pol.ok() ? nullptr : &pol.error(), options.ok() ? nullptr : &options.error()}) {
        if (e)
            return usage_error(*e);
    }

    auto kds = kds_settings(args);
    auto revocation = kds.ok() ? revocation_settings(args, pol.value(), kds.release_value())
                               : Result<RevocationSettings>(kds.error());
    if (!revocation.ok())
        return usage_error(revocation.error());
    auto verified = verify_with_revocation(*verifier.value(), evidence.value(), options.value(), revocation.value());
    if (!verified.ok())
        return usage_error(verified.error());
    verify::Verification v = verified.release_value();
    VerifyOutcome outcome = outcome_of(v, pol.value(), options.value().now.has_value());
    if (args.has("json"))
        print_json(stdout, outcome);
    else
        print_text(stdout, outcome);
    return outcome.pass() ? EXIT_OK : EXIT_REJECTED;
}

}  // namespace cvm::cli
