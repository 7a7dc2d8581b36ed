#include "verify_release.h"

#include <ctime>

#include "base/bytes.h"
#include "base/file.h"
#include "crypto/digest.h"
#include "release/bundle.h"
#include "release/release.h"

namespace cvm::cli {

const std::vector<FlagSpec>& verify_release_flags()
{
    static const std::vector<FlagSpec> flags = {
        {"release", Takes::Value},
        {"release-key", Takes::Value},
        {"require-tlog", Takes::Nothing},
        {"release-trusted-root", Takes::Value},
    };
    return flags;
}

namespace {

constexpr const char* NOT_CHECKED = "not checked";

std::string utc(int64_t seconds)
{
    time_t t = static_cast<time_t>(seconds);
    struct tm tm {};
    char out[32];
    if (!gmtime_r(&t, &tm) || strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return std::to_string(seconds);
    return out;
}

std::string shape_text(const release::Shape& s)
{
    return std::to_string(s.vcpus) + " vCPUs " + s.vcpu_type + " " + s.vmm_type;
}

}  // namespace

Result<std::optional<ReleaseInput>> release_input(const Args& args)
{
    auto path = args.get("release");
    if (!path) {
        for (const char* flag : {"release-key", "require-tlog", "release-trusted-root"}) {
            if (args.has(flag))
                return Error::make(Errc::Config, "--%s goes with --release BUNDLE", flag);
        }
        return std::optional<ReleaseInput>();
    }
    auto key_path = args.get("release-key");
    if (!key_path)
        return Error::make(Errc::Config, "--release %s needs --release-key PUB: the key the release is signed with",
                           path->c_str());
    // Each TRY before the aggregate: leaving a statement expression in the middle of a braced
    // initializer skips the destructors of the members already made (ASan saw the path leak).
    std::string bundle = TRY(read_text_file(*path, release::MAX_BUNDLE_SIZE));
    release::PublicKey key = TRY_PREFIX(release::PublicKey::load(*key_path), "--release-key %s", key_path->c_str());
    ReleaseInput in{*path, std::move(bundle), std::move(key), args.has("require-tlog"), std::nullopt};
    if (auto root = args.get("release-trusted-root"))
        in.trusted_root = TRY_PREFIX(release::load_trusted_root(*root), "--release-trusted-root %s", root->c_str());
    else if (in.require_tlog)
        return Error::make(Errc::Config, "--require-tlog needs --release-trusted-root FILE: the Sigstore trusted root "
                                         "whose Rekor keys sign the log entries");
    return std::optional<ReleaseInput>(std::move(in));
}

std::vector<Claim> release_claims(const ReleaseInput& in, const std::optional<snp::AttestationReport>& report,
                                  int64_t now)
{
    Claim signature{"release.signature", false, NOT_CHECKED,
                    "signed with the release key " + in.key.hint().substr(0, 16) + "…" +
                        (in.require_tlog ? ", in the transparency log" : ""),
                    ""};
    Claim fresh{"release.fresh", false, NOT_CHECKED, "before the release's not_after", ""};
    Claim measurement{"release.measurement", false, NOT_CHECKED, "a MEASUREMENT of the release's shapes", ""};

    release::VerifyOptions options;
    options.key = &in.key;
    options.require_tlog = in.require_tlog;
    options.trusted_root = in.trusted_root ? &*in.trusted_root : nullptr;
    options.now = 1;  // freshness is release.fresh's to judge, so that an expired release says which it is
    auto verified = release::verify_bundle(in.bundle, options);
    if (!verified) {
        signature.found = "not verified";
        signature.detail = in.path + ": " + std::string(verified.error().message());
        fresh.detail = measurement.detail = "the release did not verify (release.signature)";
        return {signature, fresh, measurement};
    }
    const release::Statement& statement = verified->statement;
    std::string canonical = release::to_json(statement);
    std::string digest =
        to_hex(crypto::Sha256::of({reinterpret_cast<const uint8_t*>(canonical.data()), canonical.size()}));
    std::string name = "release " + digest.substr(0, 12);
    signature.pass = true;
    signature.found =
        name + " signed with " + in.key.hint().substr(0, 16) + "…" +
        (verified->integrated_time ? ", logged at " + utc(*verified->integrated_time) : ", no tlog entry");
    signature.detail = "statement digest sha256:" + digest;

    const std::optional<int64_t>& not_after = statement.predicate.not_after;
    fresh.pass = !not_after || now < *not_after;
    fresh.found = (not_after ? "not_after " + utc(*not_after) : std::string("no not_after")) + ", now " + utc(now);
    if (!fresh.pass)
        fresh.detail = name + " expired: refusing";

    if (!report) {
        measurement.detail = "the report did not parse";
        return {signature, fresh, measurement};
    }
    measurement.found = to_hex(report->measurement);
    measurement.expected =
        "one of the " + std::to_string(statement.predicate.shapes.size()) + " MEASUREMENTs of " + name;
    const release::ShapeMeasurement* shape = statement.find(report->measurement);
    const auto& host_data = statement.predicate.host_data;
    if (!shape) {
        measurement.detail = "MEASUREMENT is not a shape of " + name;
    } else if (host_data && *host_data != report->host_data) {
        measurement.expected += " with HOST_DATA " + to_hex(*host_data);
        measurement.detail = "the shape " + shape_text(shape->shape) + " of " + name + " is for HOST_DATA " +
                             to_hex(*host_data) + ", the report has " + to_hex(report->host_data);
    } else {
        measurement.pass = true;
        measurement.detail = "the shape " + shape_text(shape->shape) + (host_data ? " with its init-data" : "");
    }
    return {signature, fresh, measurement};
}

}  // namespace cvm::cli
