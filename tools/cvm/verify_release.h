// `cvm verify --release BUNDLE --release-key PUB [--require-tlog] [--release-trusted-root FILE]`:
// the report's MEASUREMENT must be a shape of a signed, unexpired release (docs/verify.md,
// "Releases"). Three claims join the verdict:
//   release.signature    the bundle verifies with the release key (lib/release verify_bundle:
//                        DSSE signature, statement, and every tlog entry it carries, against the
//                        Sigstore trusted root; with --require-tlog, at least one entry)
//   release.fresh        the release is before its not_after at --at TIME or now
//   release.measurement  MEASUREMENT is one of its shapes (and HOST_DATA is its init-data's,
//                        when the release names one)
// A claim that cannot be judged (no verified release, no report) fails with found "not checked".
// --release-trusted-root is the Sigstore trusted root (JSON); --trusted-root stays the AMD-like
// root certificate of the chain.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "base/claim.h"
#include "release/keys.h"
#include "release/tlog.h"
#include "snp/report.h"

namespace cvm::cli {

// --release, --release-key, --require-tlog, --release-trusted-root.
const std::vector<FlagSpec>& verify_release_flags();

struct ReleaseInput {
    std::string path;
    std::string bundle;  // the file's text, verified by release_claims()
    release::PublicKey key;
    bool require_tlog{false};
    std::optional<release::TrustedRoot> trusted_root;
};

// nullopt without --release. Errc::Config naming the flag: --release without --release-key (or
// the other way round), --require-tlog without --release-trusted-root, a file that cannot be read
// or a key or trusted root that does not parse. The bundle itself is judged by release_claims().
Result<std::optional<ReleaseInput>> release_input(const Args& args);

// The three claims for `report` (nullopt: it did not parse) at `now`, seconds since the epoch.
std::vector<Claim> release_claims(const ReleaseInput& input, const std::optional<snp::AttestationReport>& report,
                                  int64_t now);

}  // namespace cvm::cli
