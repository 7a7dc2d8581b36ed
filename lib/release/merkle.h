// Merkle tree inclusion proofs of a transparency log (RFC 6962 §2.1, RFC 9162 §2.1): the hashes a
// Rekor log uses (SHA-256, leaves prefixed 0x00, interior nodes 0x01). Our own few lines, so that
// what accepts a proof is small enough to read whole.
#pragma once

#include <cstdint>
#include <span>

#include "base/result.h"
#include "crypto/digest.h"

namespace cvm::release {

// MTH of one leaf: SHA-256(0x00 || leaf) (RFC 6962 §2.1).
crypto::Sha256Digest rfc6962_leaf_hash(ByteView leaf);

// SHA-256(0x01 || left || right) (RFC 6962 §2.1).
crypto::Sha256Digest rfc6962_node_hash(const crypto::Sha256Digest& left, const crypto::Sha256Digest& right);

// Verifies that `leaf_hash` is leaf number `index` (from 0) of the tree of `tree_size` leaves whose
// root is `root_hash`, given its audit path `proof` (RFC 6962 §2.1.1, lowest level first), by the
// algorithm of RFC 9162 §2.1.3.2. Errc::Format when index >= tree_size or the path is longer or
// shorter than such a tree's paths; Errc::Crypto when the path leads to another root.
Result<void> verify_inclusion(const crypto::Sha256Digest& leaf_hash, uint64_t index, uint64_t tree_size,
                              std::span<const crypto::Sha256Digest> proof, const crypto::Sha256Digest& root_hash);

}  // namespace cvm::release
