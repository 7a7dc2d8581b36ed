#include "verify_setup.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "base/file.h"
#include "base/toml_reader.h"
#include "evidence_files.h"
#include "policy/policy_toml.h"
#include "releases.h"
#include "sim/platform_dir.h"

namespace cvm::cli {

const std::vector<FlagSpec>& verify_setup_flags()
{
    static const std::vector<FlagSpec> flags = {
        {"kds-url", Takes::Value},
        {"cache-dir", Takes::Value},
        {"cache-ttl", Takes::Value},
        {"offline", Takes::Nothing},
        {"policy", Takes::Value},
        {"product", Takes::Value},
        {"trusted-root", Takes::Values},
        {"check-dates", Takes::Nothing},
        {"crl", Takes::Value},
        {"no-revocation", Takes::Nothing},
        {"at", Takes::Value},
        {"sim-dir", Takes::Value},
        {"json", Takes::Nothing},
    };
    return flags;
}

namespace {

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

}  // namespace

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

namespace {

Result<std::unique_ptr<verify::Verifier>> make_verifier(const Args& args)
{
    verify::VerifierOptions options;
    std::vector<std::string> roots = args.all("trusted-root");
    if (auto dir = args.get("sim-dir"))
        roots.push_back(*dir + "/" + sim::PLATFORM_ARK);
    for (const std::string& path : roots) {
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
// Its [[policy.release]] entries are left out (the releases are --release's); without a
// measurement list, `from_releases` says that releases supply them.
Result<policy::Policy> broker_config_policy(std::string_view text, bool& from_releases)
{
    toml::table root = TRY(parse_toml(text, "policy"));
    if (!root.contains("listen"))
        return policy::parse_policy_toml(text);
    const toml::table* table = root["policy"].as_table();
    if (!table)
        return Error::make(Errc::Config, "a broker configuration (it has 'listen') without a [policy] table");
    bool has_releases = false;
    policy::Policy p = TRY(broker::parse_policy_with_releases(*table, has_releases));
    from_releases = has_releases && p.measurements.empty();
    return p;
}

Result<policy::Policy> load_policy(const Args& args, bool& from_releases)
{
    auto path = args.get("policy");
    if (!path)
        return policy::Policy::baseline();
    std::string text = TRY(read_text_file(*path, MAX_EVIDENCE_FILE));
    auto parsed = broker_config_policy(text, from_releases);
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

// Certificate dates are checked only on request (--check-dates); without it the claim says so and
// passes, so that every claim of the document is one this run decided (verify_output.h).
Claim dates_not_requested()
{
    return {"chain.validity", true, "not required (no --check-dates)", "valid now, with --check-dates",
            "certificate dates are checked only with --check-dates (docs/verify.md)"};
}

// A broker configuration whose measurements come from releases lists none: its
// policy.measurement is release.measurement's verdict, or fails asking for --release.
void defer_to_release(std::vector<Claim>& policy_claims, const std::vector<Claim>& extra)
{
    const Claim* release = nullptr;
    for (const Claim& c : extra)
        release = c.name == "release.measurement" ? &c : release;
    for (Claim& c : policy_claims) {
        if (c.name != "policy.measurement")
            continue;
        c.expected = "a MEASUREMENT of a release the broker trusts ([[policy.release]])";
        c.pass = release && release->pass;
        c.detail = release ? "the broker configuration lists no measurements: release.measurement decides"
                           : "the broker configuration accepts the MEASUREMENTs of its releases only: give "
                             "--release BUNDLE --release-key PUB";
    }
}

}  // namespace

VerifyOutcome outcome_of(const verify::Verification& v, const VerifySetup& setup, std::vector<Claim> extra)
{
    const policy::Policy& pol = setup.policy;
    std::vector<Claim> claims = v.claims;
    if (!setup.options.now)
        claims.push_back(dates_not_requested());
    std::vector<Claim> policy_claims;
    if (v.report && v.product) {
        auto origin = v.anchor == verify::Anchor::CallerSupplied ? policy::Origin::Simulated : policy::Origin::Amd;
        policy_claims = policy::evaluate(pol, *v.report, *v.product, origin);
    } else {
        policy_claims = policy::not_evaluated("the report or its product line could not be established");
    }
    if (setup.measurements_from_releases && v.report)
        defer_to_release(policy_claims, extra);
    claims.insert(claims.end(), policy_claims.begin(), policy_claims.end());
    claims.insert(claims.end(), extra.begin(), extra.end());
    VerifyOutcome outcome{every_claim(claims), v.report, v.product, v.vek_kind};
    outcome.simulated = v.anchor == verify::Anchor::CallerSupplied;
    return outcome;
}

Result<VerifySetup> verify_setup(const Args& args)
{
    VerifySetup s;
    s.verifier = TRY(make_verifier(args));
    s.policy = TRY(load_policy(args, s.measurements_from_releases));
    s.options = TRY(verify_options(args));
    KdsSettings kds = TRY(kds_settings(args));
    s.revocation = TRY(revocation_settings(args, s.policy, std::move(kds)));
    if (auto dir = args.get("sim-dir"); dir && !s.revocation.crl_file && s.revocation.off_by.empty())
        s.revocation.crl_file = *dir + "/" + sim::PLATFORM_CRL;
    return s;
}

}  // namespace cvm::cli
