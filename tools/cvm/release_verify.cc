// cvm release verify: a release bundle checked with the release key (and, when asked or when it
// carries any, its Rekor entries against a trusted root), then its shapes printed.
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "args.h"
#include "base/file.h"
#include "commands.h"
#include "release/bundle.h"

namespace cvm::cli {
namespace {

Result<int64_t> verification_time(const Args& args)
{
    auto text = args.get("time");
    if (!text)
        return static_cast<int64_t>(std::time(nullptr));
    char* end = nullptr;
    long long value = std::strtoll(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || value <= 0)
        return Error::make(Errc::Config, "--time is \"%s\", expected seconds since the epoch", text->c_str());
    return static_cast<int64_t>(value);
}

// A key or trusted root that does not load is bad input (exit 2), not a refused bundle (exit 1):
// its Format or Unsupported error becomes Errc::Config.
template <typename T>
Result<T> as_input(Result<T> loaded, const char* flag)
{
    if (loaded.ok())
        return loaded;
    const Error& e = loaded.error();
    Errc code = e.code() == Errc::Io ? Errc::Io : Errc::Config;
    return Error::make(code, "%s: %.*s", flag, static_cast<int>(e.message().size()), e.message().data());
}

void print(const std::string& path, const release::VerifiedRelease& verified, const release::PublicKey& key)
{
    const release::Predicate& p = verified.statement.predicate;
    std::printf("release: %s\n", path.c_str());
    std::printf("signed by: %s key %s\n", key.kind() == release::KeyKind::Ed25519 ? "Ed25519" : "ECDSA P-256",
                key.hint().c_str());
    if (verified.integrated_time)
        std::printf("transparency log: included, integrated at %" PRId64 "\n", *verified.integrated_time);
    else
        std::printf("transparency log: no entry\n");
    std::printf("tool: %s\nsource_date_epoch: %" PRId64 "\n", p.tool.c_str(), p.source_date_epoch);
    if (p.not_after)
        std::printf("not_after: %" PRId64 "\n", *p.not_after);
    else
        std::printf("not_after: none\n");
    for (const release::Subject& s : verified.statement.subjects)
        std::printf("subject %s sha256:%s\n", s.name.c_str(), to_hex(s.sha256).c_str());
    if (p.host_data)
        std::printf("host_data: %s\n", to_hex(*p.host_data).c_str());
    std::printf("mode: %s policy: 0x%" PRIx64 " guest_features: 0x%" PRIx64 "\n", p.mode.c_str(), p.policy,
                p.guest_features);
    std::printf("shapes: %zu\n", p.shapes.size());
    for (const release::ShapeMeasurement& s : p.shapes)
        std::printf("  %u %s %s %s\n", s.shape.vcpus, s.shape.vcpu_type.c_str(), s.shape.vmm_type.c_str(),
                    to_hex(s.measurement).c_str());
}

}  // namespace

const std::vector<FlagSpec> RELEASE_VERIFY_FLAGS = {
    {"key", Takes::Value},
    {"require-tlog", Takes::Nothing},
    {"trusted-root", Takes::Value},
    {"time", Takes::Value},
};

const char* const RELEASE_VERIFY_USAGE =
    R"(usage: cvm release verify BUNDLE --key PUB [--require-tlog] [--trusted-root FILE] [--time T]

Verifies a release bundle (a Sigstore bundle v0.3 with a DSSE envelope, as cvm release writes
it): the signature over the in-toto statement by the release key, the statement itself, its
not_after, and every Rekor transparency-log entry it carries. Prints the release's subjects and
its shapes with their MEASUREMENTs.

  --key PUB            the release public key, PEM (ECDSA P-256 or Ed25519)
  --require-tlog       refuse a bundle without a transparency-log entry
  --trusted-root FILE  Sigstore trusted root (JSON) holding the Rekor keys; required when the
                       bundle has tlog entries, which are then all verified (never skipped)
  --time T             check not_after at T, seconds since the epoch (default: now)
)";

Result<void> release_verify(const Args& args)
{
    std::vector<std::string> positional = args.positional();
    if (!positional.empty() && positional.front() == "verify")
        positional.erase(positional.begin());
    if (positional.size() != 1)
        return Error::make(Errc::Config, "expected one BUNDLE file, found %zu arguments", positional.size());
    auto key_path = args.get("key");
    if (!key_path)
        return Error::make(Errc::Config, "--key is required: the release public key (PEM)");
    if (args.has("require-tlog") && !args.has("trusted-root"))
        return Error::make(Errc::Config, "--require-tlog needs --trusted-root: the Rekor keys to verify entries with");

    release::PublicKey key = TRY(as_input(release::PublicKey::load(*key_path), "--key"));
    std::optional<release::TrustedRoot> root;
    if (auto path = args.get("trusted-root"))
        root = TRY(as_input(release::load_trusted_root(*path), "--trusted-root"));
    std::string bundle = TRY(read_text_file(positional[0], release::MAX_BUNDLE_SIZE));

    release::VerifyOptions options;
    options.key = &key;
    options.require_tlog = args.has("require-tlog");
    options.trusted_root = root ? &*root : nullptr;
    options.now = TRY(verification_time(args));
    release::VerifiedRelease verified =
        TRY_PREFIX(release::verify_bundle(bundle, options), "%s", positional[0].c_str());
    print(positional[0], verified, key);
    return {};
}

}  // namespace cvm::cli
