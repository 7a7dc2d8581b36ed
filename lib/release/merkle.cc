#include "release/merkle.h"

#include "base/bytes.h"

namespace cvm::release {

crypto::Sha256Digest rfc6962_leaf_hash(ByteView leaf)
{
    crypto::Sha256 h;
    const uint8_t prefix = 0x00;
    h.update({&prefix, 1});
    h.update(leaf);
    return h.finish();
}

crypto::Sha256Digest rfc6962_node_hash(const crypto::Sha256Digest& left, const crypto::Sha256Digest& right)
{
    crypto::Sha256 h;
    const uint8_t prefix = 0x01;
    h.update({&prefix, 1});
    h.update(left);
    h.update(right);
    return h.finish();
}

Result<void> verify_inclusion(const crypto::Sha256Digest& leaf_hash, uint64_t index, uint64_t tree_size,
                              std::span<const crypto::Sha256Digest> proof, const crypto::Sha256Digest& root_hash)
{
    if (index >= tree_size)
        return Error::make(Errc::Format, "logIndex %llu is not below treeSize %llu",
                           static_cast<unsigned long long>(index), static_cast<unsigned long long>(tree_size));
    // RFC 9162 §2.1.3.2, steps 1 to 6, with fn and sn as the RFC names them.
    uint64_t fn = index;
    uint64_t sn = tree_size - 1;
    crypto::Sha256Digest r = leaf_hash;
    for (const crypto::Sha256Digest& p : proof) {
        // "If sn is 0, then stop the iteration and fail the proof verification."
        if (sn == 0)
            return Error::make(Errc::Format, "%zu hashes, more than a path in a tree of %llu leaves has", proof.size(),
                               static_cast<unsigned long long>(tree_size));
        if ((fn & 1) != 0 || fn == sn) {
            r = rfc6962_node_hash(p, r);
            // "If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn)
            // is set or fn is 0."
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            r = rfc6962_node_hash(r, p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    // "Compare sn to 0. Compare r against the root_hash. If sn is equal to 0 and r and the
    // root_hash are equal, then the log has proven the inclusion of hash."
    if (sn != 0)
        return Error::make(Errc::Format, "%zu hashes, fewer than the path to leaf %llu of %llu has", proof.size(),
                           static_cast<unsigned long long>(index), static_cast<unsigned long long>(tree_size));
    if (r != root_hash)
        return Error::make(Errc::Crypto,
                           "the audit path from leaf %llu of %llu leads to %.16s..., not rootHash %.16s...",
                           static_cast<unsigned long long>(index), static_cast<unsigned long long>(tree_size),
                           to_hex(r).c_str(), to_hex(root_hash).c_str());
    return {};
}

}  // namespace cvm::release
