// A transparency log's checkpoint: a signed note (transparency-dev/formats log/README.md, and
// golang.org/x/mod/sumdb/note for the signature lines) as Rekor v1 writes it
// (sigstore/rekor pkg/util/signed_note.go, checkpoint.go):
//
//   <origin>\n                      "rekor.sigstore.dev - 1193050959916656506"
//   <tree size, decimal>\n
//   <root hash, base64>\n
//   [<extension line>\n ...]          Rekor v1: "Timestamp: <ns>"
//   \n
//   — <key name> <base64(key hint[4] ‖ signature)>\n    (one or more; U+2014 EM DASH)
//
// Rekor v1's key hint is the first 4 bytes of SHA-256 of the log key's SPKI DER, i.e. of its log
// id, and its signature is ECDSA P-256 with SHA-256 over the note text (every line before the
// blank one, with their newlines).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "crypto/digest.h"
#include "release/tlog.h"

namespace cvm::release {

struct Checkpoint {
    std::string origin;
    uint64_t tree_size{0};
    crypto::Sha256Digest root_hash{};
};

// Parses the signed note strictly (every line as above, the text ending in a newline, no empty
// origin, the size in plain decimal, the root hash canonical base64 of 32 bytes) and requires a
// signature line whose key name is the host of `log.base_url` and whose hint is `log`'s; every such
// line must verify with `log.key`. Lines of other signers (witnesses) are allowed and not checked.
// Errc::Format for a malformed note, Errc::Crypto for a missing or bad signature by the log.
Result<Checkpoint> verify_checkpoint(std::string_view note, const TransparencyLog& log);

// The host of a log's base URL ("https://rekor.sigstore.dev" -> "rekor.sigstore.dev"), the key
// name its checkpoints are signed under.
std::string_view log_host(std::string_view base_url);

}  // namespace cvm::release
