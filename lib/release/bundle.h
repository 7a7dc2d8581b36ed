// Sigstore bundle v0.3 holding a DSSE envelope: written by `cvm release`, verified by
// `cvm release verify`, `cvm verify --release` and the broker's [[policy.release]].
//
//   {"mediaType": BUNDLE_MEDIA_TYPE,
//    "verificationMaterial": {"publicKey": {"hint": "<key hint>"}, "tlogEntries": [...]},
//    "dsseEnvelope": {"payload": b64, "payloadType": PAYLOAD_TYPE,
//                     "signatures": [{"sig": b64, "keyid": "<key hint>"}]}}
//
// The field names are the protobuf-specs JSON mapping (lowerCamelCase), which sigstore-js
// (@sigstore/bundle, @sigstore/verify) reads; the test suite checks our bundles with it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "release/keys.h"
#include "release/release.h"
#include "release/tlog.h"

namespace cvm::release {

// The bundle for `statement` signed with `key`: no tlog entries (the pipeline adds them with
// its own tools when it is online). Deterministic: one statement and key give one byte string.
Result<std::string> make_bundle(const Statement& statement, const SigningKey& key);

struct VerifyOptions {
    const PublicKey* key{nullptr};             // required: the release key
    bool require_tlog{false};                  // at least one tlog entry, fully verified
    const TrustedRoot* trusted_root{nullptr};  // the Rekor keys; required when a bundle has entries
    int64_t now{0};                            // seconds since the epoch, for not_after; 0 is refused
};

struct VerifiedRelease {
    Statement statement;
    std::optional<int64_t> integrated_time;  // the earliest verified tlog entry's, if any
};

// Verifies a bundle: media type, the envelope's payload type, the signature over PAE by the
// release key, the statement (parse_statement), its not_after against `now`, and each tlog entry
// (verify_tlog_entry): an entry present is verified or the bundle refused, whether or not
// `require_tlog` asks for one, and never skipped for lack of a trusted root (Errc::Config).
// Errors name the bundle member and what was found and expected.
Result<VerifiedRelease> verify_bundle(std::string_view bundle_json, const VerifyOptions& options);

}  // namespace cvm::release
