// RFC 9162 §2.1.3.2 inclusion-proof verification (lib/release/merkle.h).
//
// Vectors: transparency-dev/merkle proof/verify_test.go (commit 02194e9afb6c, Apache-2.0), the
// RFC 6962 reference tree of eight leaves that Certificate Transparency's own tests use: its
// leaves, the tree heads for sizes 1 to 8 and five inclusion proofs (there written with 1-based
// leaf numbers; 0-based here), and its corruption probes (verifierCheck: wrong index, tree size,
// leaf or root; garbage before or after; each proof hash with bit 3 flipped; a hash removed or
// inserted), every one of which must be refused.
#include <doctest.h>

#include <string>
#include <vector>

#include "release/merkle.h"
#include "tlog_fixture.h"

using namespace cvm;
using namespace cvm::release;
using cvm::crypto::Sha256Digest;

namespace {

Sha256Digest h(const char* hex)
{
    auto bytes = from_hex(hex);
    REQUIRE((bytes && bytes->size() == 32));
    Sha256Digest out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

const std::vector<Bytes>& reference_leaves()
{
    static const std::vector<Bytes> leaves = [] {
        std::vector<Bytes> out;
        for (const char* hex :
             {"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"})
            out.push_back(*from_hex(hex));
        return out;
    }();
    return leaves;
}

// The tree heads of the first n reference leaves, n = 1 to 8.
const Sha256Digest& reference_root(size_t n)
{
    static const std::vector<Sha256Digest> roots = {
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
        h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
        h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
        h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    };
    return roots.at(n - 1);
}

struct ProofVector {
    uint64_t index;  // 0-based
    uint64_t size;
    std::vector<Sha256Digest> proof;
};

const std::vector<ProofVector>& reference_proofs()
{
    static const std::vector<ProofVector> proofs = {
        {0, 1, {}},
        {0,
         8,
         {h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
          h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
          h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}},
        {5,
         8,
         {h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
          h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
          h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
        {2, 3, {h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")}},
        {1,
         5,
         {h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
          h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
          h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}},
    };
    return proofs;
}

bool verifies(const Sha256Digest& leaf, uint64_t index, uint64_t size, const std::vector<Sha256Digest>& proof,
              const Sha256Digest& root)
{
    return verify_inclusion(leaf, index, size, proof, root).ok();
}

}  // namespace

TEST_CASE("the RFC 6962 reference tree heads for sizes 1 to 8")
{
    const auto& leaves = reference_leaves();
    CHECK(to_hex(rfc6962_leaf_hash({})) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    for (size_t n = 1; n <= 8; ++n) {
        CAPTURE(n);
        CHECK(test::mth(std::span(leaves).first(n)) == reference_root(n));
    }
}

TEST_CASE("the reference inclusion proofs verify, and the recursive PATH gives the same hashes")
{
    const auto& leaves = reference_leaves();
    for (const ProofVector& v : reference_proofs()) {
        CAPTURE(v.index);
        CAPTURE(v.size);
        Sha256Digest leaf = rfc6962_leaf_hash(leaves[v.index]);
        auto result = verify_inclusion(leaf, v.index, v.size, v.proof, reference_root(v.size));
        CHECK_MESSAGE(result.ok(), (result.ok() ? "" : std::string(result.error().message())));
        CHECK(test::audit_path(v.index, std::span(leaves).first(v.size)) == v.proof);
    }
}

TEST_CASE("every corruption probe of transparency-dev's verifierCheck is refused")
{
    const Sha256Digest some_hash = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    const Sha256Digest empty_tree = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const auto& leaves = reference_leaves();
    for (const ProofVector& v : reference_proofs()) {
        CAPTURE(v.index);
        CAPTURE(v.size);
        const Sha256Digest leaf = rfc6962_leaf_hash(leaves[v.index]);
        const Sha256Digest& root = reference_root(v.size);
        const auto& p = v.proof;
        CHECK_FALSE(verifies(leaf, v.index - 1, v.size, p, root));  // index 0 - 1 wraps: beyond the tree
        CHECK_FALSE(verifies(leaf, v.index + 1, v.size, p, root));
        CHECK_FALSE(verifies(leaf, v.index ^ 2, v.size, p, root));
        CHECK_FALSE(verifies(leaf, v.index, v.size * 2, p, root));
        CHECK_FALSE(verifies(leaf, v.index, v.size / 2, p, root));
        CHECK_FALSE(verifies(rfc6962_leaf_hash(as_bytes("WrongLeaf")), v.index, v.size, p, root));
        CHECK_FALSE(verifies(leaf, v.index, v.size, p, empty_tree));
        CHECK_FALSE(verifies(leaf, v.index, v.size, p, some_hash));
        auto with = [&](std::vector<Sha256Digest> proof) { return verifies(leaf, v.index, v.size, proof, root); };
        auto extended = p;
        extended.push_back(Sha256Digest{});
        CHECK_FALSE(with(extended));
        extended.back() = root;
        CHECK_FALSE(with(extended));
        auto prepended = p;
        prepended.insert(prepended.begin(), Sha256Digest{});
        CHECK_FALSE(with(prepended));
        prepended.front() = root;
        CHECK_FALSE(with(prepended));
        for (size_t i = 0; i < p.size(); ++i) {
            CAPTURE(i);
            auto flipped = p;
            flipped[i][0] ^= 8;
            CHECK_FALSE(with(flipped));
        }
        if (!p.empty())
            CHECK_FALSE(with(std::vector<Sha256Digest>(p.begin(), p.end() - 1)));
        if (p.size() > 1) {
            auto inserted = p;
            inserted.insert(inserted.begin() + 1, some_hash);
            CHECK_FALSE(with(inserted));
        }
    }
}

TEST_CASE("every leaf of every tree up to 70 leaves: its path verifies, any flipped bit or other index does not")
{
    auto leaves = test::sample_leaves(70);
    size_t checked = 0;
    for (size_t n = 1; n <= leaves.size(); ++n) {
        auto tree = std::span<const Bytes>(leaves).first(n);
        Sha256Digest root = test::mth(tree);
        for (size_t m = 0; m < n; ++m) {
            Sha256Digest leaf = rfc6962_leaf_hash(tree[m]);
            auto path = test::audit_path(m, tree);
            REQUIRE_MESSAGE(verifies(leaf, m, n, path, root), "leaf " << m << " of " << n);
            for (size_t i = 0; i < path.size(); ++i) {
                auto bad = path;
                bad[i][31] ^= 0x80;
                REQUIRE_FALSE(verifies(leaf, m, n, bad, root));
            }
            if (n > 1)
                REQUIRE_FALSE(verifies(leaf, (m + 1) % n, n, path, root));
            ++checked;
        }
    }
    CHECK(checked == 70 * 71 / 2);
}

TEST_CASE("index beyond the tree, an empty tree, or a path of the wrong length: Format, naming the counts")
{
    Sha256Digest leaf = rfc6962_leaf_hash(as_bytes("x"));
    auto beyond = verify_inclusion(leaf, 1, 1, {}, leaf);
    REQUIRE_FALSE(beyond.ok());
    CHECK(beyond.error().code() == Errc::Format);
    CHECK(std::string(beyond.error().message()).find("logIndex 1 is not below treeSize 1") != std::string::npos);
    CHECK_FALSE(verify_inclusion(leaf, 0, 0, {}, leaf).ok());
    CHECK(verify_inclusion(leaf, 0, 1, {}, leaf).ok());  // a tree of one: the leaf hash is the root

    std::vector<Sha256Digest> one{leaf};
    auto longer = verify_inclusion(leaf, 0, 1, one, leaf);
    REQUIRE_FALSE(longer.ok());
    CHECK(longer.error().code() == Errc::Format);
    CHECK(std::string(longer.error().message()).find("1 hashes, more than") != std::string::npos);

    auto shorter = verify_inclusion(leaf, 0, 2, {}, leaf);
    REQUIRE_FALSE(shorter.ok());
    CHECK(shorter.error().code() == Errc::Format);
    CHECK(std::string(shorter.error().message()).find("0 hashes, fewer than") != std::string::npos);

    auto other_root = verify_inclusion(leaf, 0, 2, one, leaf);
    REQUIRE_FALSE(other_root.ok());
    CHECK(other_root.error().code() == Errc::Crypto);
    CHECK(std::string(other_root.error().message()).find("not rootHash") != std::string::npos);
}

TEST_CASE("the largest trees: a 63-hash path to the last leaf of 2^63 leaves is walked, not overflowed")
{
    // Leaf 2^63 - 1 of 2^63 leaves: all 63 path hashes are left siblings, so the root is their
    // fold; the walk must neither overflow nor stop early.
    Sha256Digest leaf = rfc6962_leaf_hash(as_bytes("last"));
    std::vector<Sha256Digest> path;
    Sha256Digest root = leaf;
    for (int i = 0; i < 63; ++i) {
        Sha256Digest sibling{};
        sibling[0] = static_cast<uint8_t>(i);
        path.push_back(sibling);
        root = rfc6962_node_hash(sibling, root);
    }
    const uint64_t size = uint64_t{1} << 63;
    CHECK(verify_inclusion(leaf, size - 1, size, path, root).ok());
    CHECK_FALSE(verify_inclusion(leaf, size - 2, size, path, root).ok());
    path.pop_back();
    CHECK_FALSE(verify_inclusion(leaf, size - 1, size, path, root).ok());
}
