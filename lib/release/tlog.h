// Rekor transparency-log entries in a Sigstore bundle, checked offline against a Sigstore
// trusted root (sigstore/protobuf-specs TrustedRoot JSON, "application/vnd.dev.sigstore.
// trustedroot+json;version=0.1"; only its `tlogs` are used).
//
// An entry (TransparencyLogEntry) is accepted only when all of these hold:
//   - its log (logId.keyId) is one of the trusted root's tlogs, valid at integratedTime;
//   - canonicalizedBody is a Rekor "dsse" 0.0.1 entry for this envelope: the payload's SHA-256,
//     the envelope's one signature, and the release key's PEM as its verifier. Its envelopeHash
//     is checked for form only, as sigstore-js does: Rekor hashed the envelope text the uploader
//     sent, whose member order is the uploader's (cosign's Go structs, sigstore-js's protobuf
//     order) and not in the bundle; payload hash and signature already bind every signed byte;
//   - the inclusion proof (RFC 6962 §2.1.1 audit path, RFC 9162 §2.1.3.2 verification) leads
//     from SHA-256(0x00 ‖ body) at logIndex to rootHash for treeSize;
//   - the checkpoint (a signed note, transparency-dev/formats log/README.md; checkpoint.h) names
//     the same tree size and root hash and is signed by the entry's own log under its host name;
//   - the inclusionPromise (signed entry timestamp), when present, is the log's signature over
//     the canonical JSON of {body, integratedTime, logID, logIndex}.
// A missing inclusion proof is refused (a promise alone is not an inclusion). Members proto3's
// JSON mapping leaves out when zero (logIndex, integratedTime, an empty hashes list) read as 0.
// Only Rekor v1 "dsse" entries are understood (Errc::Unsupported for other kinds and versions).
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

// The trusted root's tlogs (trusted_root.cc): a log whose key is neither ECDSA P-256 nor Ed25519
// is left out (its entries are then refused as of an unknown log); Errc::Config when none is
// left, Errc::Format naming the member ("trustedRoot.tlogs[1].publicKey.validFor.start") for a
// malformed root, Errc::Unsupported for another mediaType or hashAlgorithm.
Result<TrustedRoot> parse_trusted_root(std::string_view json);
Result<TrustedRoot> load_trusted_root(const std::string& path);

// Verifies one tlogEntries[] element for `envelope_json` (the bundle's dsseEnvelope as JSON; its
// payload and signature are read from it) signed with `release_key`. Returns integratedTime,
// which the log signed only when the entry has an inclusion promise. Errors name the member
// within the entry ("inclusionProof.hashes", "canonicalizedBody.spec.payloadHash"; the caller
// prefixes the entry, "verificationMaterial.tlogEntries[0]") and what failed: Errc::Format for
// a malformed entry, Errc::Crypto for a proof, checkpoint, promise or body that does not hold
// or an unknown log, Errc::Policy for an entry outside its log's validity or without a proof.
Result<int64_t> verify_tlog_entry(yyjson_val* entry, std::string_view envelope_json, const PublicKey& release_key,
                                  const TrustedRoot& root);

}  // namespace cvm::release
