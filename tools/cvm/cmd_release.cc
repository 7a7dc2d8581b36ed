// cvm release: the signed reference values of one measured image for every VM shape it may run
// as (release_statement.h computes them, lib/release signs them), its release keys, and
// `cvm release verify` (release_verify.cc).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "args.h"
#include "base/file.h"
#include "commands.h"
#include "measure_request.h"
#include "release/bundle.h"
#include "release_shapes.h"
#include "release_statement.h"

namespace cvm::cli {

namespace {

constexpr const char* USAGE = R"(usage: cvm release --launch launch.toml [--shapes shapes.toml] --key KEY --out DIR
                   [--valid-days N] [--source-date-epoch T]
       cvm release keygen [--kind ecdsa-p256|ed25519] --out PREFIX [--force]
       cvm release verify BUNDLE --key PUB [--require-tlog --trusted-root FILE] [--time T]

Publishes the reference values of one measured image: the MEASUREMENT of every VM shape (vCPU
count, vCPU type, VMM) it may run as, computed with the firmware, kernel and initrd hashed once
for the whole matrix, as an in-toto statement signed with the release key in a Sigstore bundle.
Brokers ([[policy.release]]) and `cvm verify --release` accept a report whose MEASUREMENT the
bundle lists; `cvm release verify` checks one by hand (docs/release.md).

  --launch FILE          the launch (measure/launch_toml.h): firmware, kernel, initrd, cmdline,
                         guest_features, policy, host_data or initdata; mode must be snp
  --shapes FILE          the shape matrix (below); without it, the launch.toml's own shape. With
                         it, the launch.toml's vcpus and vCPU type choose nothing, but when it has
                         them its launch must be one of the shapes (the VM cvm launch starts is
                         one the release covers)
  --key KEY              the release signing key (cvm release keygen; PKCS#8 PEM)
  --out DIR              writes DIR/statement.json (the statement, canonical JSON: the signed
                         bytes) and DIR/release.sigstore.json (the bundle); DIR is created
  --valid-days N         the release expires N days after SOURCE_DATE_EPOCH (not_after)
  --source-date-epoch T  the build's time, seconds since the epoch; default: the environment's
                         SOURCE_DATE_EPOCH (one of the two is required; if both, they must agree)

The statement names no path and no clock but SOURCE_DATE_EPOCH: the same inputs and key give
byte-identical files in any directory, as any user, with any umask.

shapes.toml:
  vcpus = [1, 2, 4, 8]                        the product, in this order: every VMM type, for
  vcpu_types = ["EPYC-Milan", "EPYC-Genoa"]   each every vCPU type, for each every count
  vmm_types = ["QEMU"]                        (default ["QEMU"]; also ec2, gce)
  [[shape]]                                   and/or shapes one by one, after the product
  vcpus = 16   vcpu_type = "EPYC-Genoa"   vmm_type = "QEMU"
  Every shape names a vCPU type (on ec2 and gce too, where it does not change the MEASUREMENT).

keygen: writes PREFIX.key (PKCS#8 PEM, mode 0600; an existing one is kept unless --force) and
  PREFIX.pub (SubjectPublicKeyInfo PEM, what verifiers are given); ecdsa-p256 by default (RFC 6979
  deterministic signatures), or ed25519. Prints the key's hint (SHA-256 of the public key).

exit status: 0 success, 1 (verify) the bundle is refused, 2 usage or input error
)";

const std::vector<FlagSpec> MAKE_FLAGS = {
    {"launch", Takes::Value}, {"shapes", Takes::Value},     {"key", Takes::Value},
    {"out", Takes::Value},    {"valid-days", Takes::Value}, {"source-date-epoch", Takes::Value},
};
const std::vector<FlagSpec> KEYGEN_FLAGS = {{"kind", Takes::Value}, {"out", Takes::Value}, {"force", Takes::Nothing}};

const char* kind_name(release::KeyKind kind)
{
    return kind == release::KeyKind::Ed25519 ? "Ed25519" : "ECDSA P-256";
}

// reproducible-builds.org, SOURCE_DATE_EPOCH: "The value MUST be an ASCII representation of an
// integer with no fractional component, identical to the output format of date +%s", and "If
// the value is malformed, the build process SHOULD exit with a non-zero error code."
Result<int64_t> epoch_value(const std::string& text, const char* what)
{
    bool digits = !text.empty() && text.size() <= 16;
    for (char c : text)
        digits = digits && c >= '0' && c <= '9';
    if (!digits)
        return Error::make(Errc::Config, "%s is \"%.32s\", expected seconds since the epoch (digits, as date +%%s)",
                           what, text.c_str());
    return static_cast<int64_t>(strtoll(text.c_str(), nullptr, 10));
}

Result<int64_t> source_date_epoch(const Args& args)
{
    const char* env = getenv("SOURCE_DATE_EPOCH");
    auto flag = args.get("source-date-epoch");
    if (!flag && !env)
        return Error::make(Errc::Config, "SOURCE_DATE_EPOCH is not set and there is no --source-date-epoch: a release "
                                         "names the build's time, and only that one");
    std::optional<int64_t> from_env;
    if (env)
        from_env = TRY(epoch_value(env, "SOURCE_DATE_EPOCH"));
    if (!flag)
        return *from_env;
    int64_t value = TRY(epoch_value(*flag, "--source-date-epoch"));
    if (from_env && *from_env != value)
        return Error::make(Errc::Config, "--source-date-epoch %lld and SOURCE_DATE_EPOCH=%lld differ: give one",
                           static_cast<long long>(value), static_cast<long long>(*from_env));
    return value;
}

Result<std::optional<int64_t>> valid_days(const Args& args)
{
    auto text = args.get("valid-days");
    if (!text)
        return std::optional<int64_t>();
    uint64_t days = TRY(parse_number(*text, MAX_VALID_DAYS, "--valid-days"));
    if (days == 0)
        return Error::make(Errc::Config, "--valid-days 0: expected 1 to %lld", static_cast<long long>(MAX_VALID_DAYS));
    return std::optional<int64_t>(static_cast<int64_t>(days));
}

Result<void> make_directory(const std::string& dir)
{
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return Error::from_errno(Errc::Io, errno, "cannot create %s: %s", dir.c_str(), strerror(errno));
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return Error::make(Errc::Config, "--out %s is not a directory", dir.c_str());
    return {};
}

void print_summary(const release::Statement& statement, const ReleaseResult& result)
{
    const release::Predicate& p = statement.predicate;
    printf("release: %zu shape%s, source_date_epoch %lld", p.shapes.size(), p.shapes.size() == 1 ? "" : "s",
           static_cast<long long>(p.source_date_epoch));
    if (p.not_after)
        printf(", not_after %lld", static_cast<long long>(*p.not_after));
    printf("\n");
    for (const release::Subject& s : statement.subjects)
        printf("  %-9s sha256:%s\n", s.name.c_str(), to_hex(s.sha256).c_str());
    for (const release::ShapeMeasurement& s : p.shapes)
        printf("  %4u %-12s %-4s %s\n", s.shape.vcpus, s.shape.vcpu_type.c_str(), s.shape.vmm_type.c_str(),
               to_hex(s.measurement).c_str());
    double n = static_cast<double>(p.shapes.size());
    printf("matrix: %zu shapes in %.1f ms: the image hashed once %.1f ms, the shapes' own pages %.2f ms; one "
           "measurement alone costs about %.1f ms\n",
           p.shapes.size(), result.image_ms + result.shapes_ms, result.image_ms, result.shapes_ms,
           result.image_ms + result.shapes_ms / n);
}

Result<void> make(const Args& args)
{
    auto launch_path = args.get("launch");
    auto key_path = args.get("key");
    auto out = args.get("out");
    if (!launch_path || !key_path || !out)
        return Error::make(Errc::Config, "needs --%s",
                           !launch_path ? "launch launch.toml"
                           : !key_path  ? "key KEY"
                                        : "out DIR");
    ReleaseRequest request;
    request.source_date_epoch = TRY(source_date_epoch(args));
    request.valid_days = TRY(valid_days(args));
    request.tool = std::string("cvm ") + CVM_VERSION;
    request.launch = TRY(launch::load_launch_toml(*launch_path));
    if (auto shapes = args.get("shapes"))
        request.shapes = TRY(load_shapes_toml(*shapes));
    release::SigningKey key = TRY_PREFIX(release::SigningKey::load(*key_path), "--key");

    ReleaseResult result = TRY_PREFIX(build_release(request), "%s", launch_path->c_str());
    std::string statement = release::to_json(result.statement);
    std::string bundle = TRY(release::make_bundle(result.statement, key));
    TRY(make_directory(*out));
    auto bytes = [](const std::string& s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
    TRY(write_file_atomic(*out + "/statement.json", bytes(statement)));
    TRY(write_file_atomic(*out + "/release.sigstore.json", bytes(bundle)));
    print_summary(result.statement, result);
    printf("wrote %s/statement.json and %s/release.sigstore.json, signed by %s key %s\n", out->c_str(), out->c_str(),
           kind_name(key.public_key().kind()), key.public_key().hint().c_str());
    return {};
}

// Creates `path` with `data`, never replacing an existing file unless `force`: written beside it,
// then linked to its name, which fails if the name exists even when it appeared after a check.
Result<void> create_file(const std::string& path, ByteView data, unsigned mode, bool force)
{
    if (force)
        return write_file_atomic(path, data, mode);
    std::string tmp = path + ".keygen-" + std::to_string(getpid());
    TRY(write_file_atomic(tmp, data, mode));
    int linked = link(tmp.c_str(), path.c_str());
    int saved = errno;
    unlink(tmp.c_str());
    if (linked != 0 && saved == EEXIST)
        return Error::make(Errc::Config, "%s exists: refusing to replace a release key (--force replaces it)",
                           path.c_str());
    if (linked != 0)
        return Error::from_errno(Errc::Io, saved, "cannot create %s: %s", path.c_str(), strerror(saved));
    return {};
}

Result<void> keygen(const Args& args)
{
    auto prefix = args.get("out");
    if (!prefix || prefix->empty())
        return Error::make(Errc::Config, "keygen needs --out PREFIX (writes PREFIX.key and PREFIX.pub)");
    std::string kind_text = args.get("kind").value_or("ecdsa-p256");
    release::KeyKind kind = release::KeyKind::EcdsaP256;
    if (kind_text == "ed25519")
        kind = release::KeyKind::Ed25519;
    else if (kind_text != "ecdsa-p256")
        return Error::make(Errc::Config, "--kind %s: expected ecdsa-p256 or ed25519", kind_text.c_str());
    release::SigningKey key = TRY(release::SigningKey::generate(kind));
    SecretBytes pem = key.private_pem();
    std::string pub = key.public_key().pem();
    TRY(create_file(*prefix + ".key", pem.expose(), 0600, args.has("force")));
    TRY(write_file_atomic(*prefix + ".pub", ByteView(reinterpret_cast<const uint8_t*>(pub.data()), pub.size())));
    printf("%s.key, %s.pub: %s release key %s\n", prefix->c_str(), prefix->c_str(), kind_name(kind),
           key.public_key().hint().c_str());
    return {};
}

int verify(const std::vector<std::string>& argv)
{
    auto parsed =
        parse_command("release verify", argv, RELEASE_VERIFY_FLAGS, RELEASE_VERIFY_USAGE, Positional::Allowed);
    if (auto* status = std::get_if<int>(&parsed))
        return *status;
    auto verified = release_verify(std::get<Args>(parsed));
    if (verified.ok())
        return EXIT_OK;
    Errc code = verified.error().code();
    if (code == Errc::Crypto || code == Errc::Format || code == Errc::Policy) {
        fprintf(stderr, "cvm release verify: %.*s\n", static_cast<int>(verified.error().message().size()),
                verified.error().message().data());
        return EXIT_REJECTED;
    }
    return usage_failure("release verify", verified.error());
}

}  // namespace

int cmd_release(const std::vector<std::string>& argv)
{
    if (!argv.empty() && argv[0] == "verify")
        return verify(std::vector<std::string>(argv.begin() + 1, argv.end()));
    bool is_keygen = !argv.empty() && argv[0] == "keygen";
    std::vector<std::string> rest(argv.begin() + (is_keygen ? 1 : 0), argv.end());
    auto parsed = parse_command(is_keygen ? "release keygen" : "release", rest, is_keygen ? KEYGEN_FLAGS : MAKE_FLAGS,
                                USAGE, Positional::None);
    if (auto* status = std::get_if<int>(&parsed))
        return *status;
    const Args& args = std::get<Args>(parsed);
    auto done = is_keygen ? keygen(args) : make(args);
    if (!done.ok())
        return usage_failure(is_keygen ? "release keygen" : "release", done.error());
    return EXIT_OK;
}

}  // namespace cvm::cli
