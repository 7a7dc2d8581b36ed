// Rekor transparency-log entries in a Sigstore bundle, checked offline against a Sigstore
// trusted root (sigstore/protobuf-specs TrustedRoot JSON, "application/vnd.dev.sigstore.
// trustedroot+json;version=0.1"; only its `tlogs` are used).
//
// An entry (TransparencyLogEntry) is accepted only when all of these hold:
//   - its log (logId.keyId) is one of the trusted root's tlogs, valid at integratedTime;
//   - canonicalizedBody is a Rekor "dsse" 0.0.1 entry for this envelope: the envelope's and the
//     payload's SHA-256 and the signature with the release key's PEM as verifier;
//   - the inclusion proof (RFC 6962 §2.1.1 audit path, RFC 9162 §2.1.3.2 verification) leads
//     from SHA-256(0x00 ‖ body) at logIndex to rootHash for treeSize;
//   - the checkpoint (a signed note, transparency-dev/formats log/README.md) names the same tree
//     size and root hash and is signed by the log's key;
//   - the inclusionPromise (signed entry timestamp), when present, is the log's signature over
//     the canonical JSON of {body, integratedTime, logID, logIndex}.
// A missing inclusion proof is refused (a promise alone is not an inclusion).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yyjson.h>

#include "base/bytes.h"
#include "base/result.h"
#include "release/keys.h"

namespace cvm::release {

struct TransparencyLog {
    std::string base_url;
    std::array<uint8_t, 32> log_id{};  // SHA-256 of the log key's SPKI DER
    PublicKey key;
    int64_t valid_from{0};
    std::optional<int64_t> valid_until;
};

struct TrustedRoot {
    std::vector<TransparencyLog> tlogs;
};

Result<TrustedRoot> parse_trusted_root(std::string_view json);
Result<TrustedRoot> load_trusted_root(const std::string& path);

// Verifies one tlogEntries[] element for `envelope_json` (the bundle's dsseEnvelope, as the
// canonical JSON Rekor hashed) signed with `release_key`. Returns integratedTime. Errors name
// the member ("tlogEntries[0].inclusionProof.hashes[2]") and what failed.
Result<int64_t> verify_tlog_entry(yyjson_val* entry, std::string_view envelope_json, const PublicKey& release_key,
                                  const TrustedRoot& root);

}  // namespace cvm::release
