// The hash tree: against a small independent model of verity.rst, on in-memory devices, and
// refusals that name the first bad block. Interop with veritysetup is in test_verity_interop.cc.
#include <doctest.h>

#include <string>
#include <vector>

#include "crypto/digest.h"
#include "storage/verity.h"
#include "verity_fixture.h"

using namespace cvm;
using namespace cvm::storage::verity;
using cvm::test::MemoryBlockDevice;

namespace {

// The model: whole levels in memory, written from the prose rather than from the library.
struct Model {
    std::vector<Bytes> levels_bottom_up;  // each level's hash blocks, concatenated
    RootHash root{};
};

Bytes salted(ByteView salt, ByteView block)
{
    crypto::Sha256 h;
    h.update(salt);
    h.update(block);
    auto d = h.finish();
    return Bytes(d.begin(), d.end());
}

Model model(const Bytes& data, ByteView salt)
{
    Model m;
    Bytes below = data;
    while (below.size() > 4096) {
        Bytes level;
        for (size_t at = 0; at < below.size(); at += 4096) {
            Bytes d = salted(salt, ByteView(below).subspan(at, 4096));
            level.insert(level.end(), d.begin(), d.end());
        }
        level.resize((level.size() + 4095) / 4096 * 4096, 0);
        m.levels_bottom_up.push_back(level);
        below = level;
    }
    Bytes root = salted(salt, below);
    std::copy(root.begin(), root.end(), m.root.begin());
    return m;
}

// The hash device the model implies: superblock block, then the levels top first.
Bytes model_device(const Model& m, const Superblock& sb)
{
    Bytes out(4096, 0);
    auto encoded = encode_superblock(sb).value();
    std::copy(encoded.begin(), encoded.end(), out.begin());
    for (size_t i = m.levels_bottom_up.size(); i-- > 0;)
        out.insert(out.end(), m.levels_bottom_up[i].begin(), m.levels_bottom_up[i].end());
    return out;
}

Superblock make_sb(uint64_t blocks, Bytes salt)
{
    Superblock sb;
    sb.uuid = parse_uuid("0b5e4c2a-7d1f-4a8e-9c3b-2f6d8e1a4b7c", "uuid").value();
    sb.data_blocks = blocks;
    sb.salt = std::move(salt);
    return sb;
}

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

}  // namespace

TEST_CASE("trees of 1, 128, 129 and 128*128+1 blocks match the model, with and without a salt")
{
    for (uint64_t blocks : {uint64_t{1}, uint64_t{2}, uint64_t{128}, uint64_t{129}, uint64_t{128 * 128 + 1}}) {
        for (const Bytes& salt : {Bytes{}, test::pattern(32, 7), test::pattern(256, 8)}) {
            CAPTURE(blocks);
            CAPTURE(salt.size());
            Superblock sb = make_sb(blocks, salt);
            MemoryBlockDevice data(test::pattern(blocks * 4096, static_cast<uint32_t>(blocks)), "data");
            uint64_t device_bytes = tree_layout(blocks).value().device_bytes;
            MemoryBlockDevice hash(Bytes(device_bytes, 0), "hash");

            auto root = build_tree(data, hash, sb);
            REQUIRE_MESSAGE(root.ok(), test::why(root));
            Model m = model(data.bytes(), salt);
            CHECK(root.value() == m.root);
            CHECK((hash.bytes() == model_device(m, sb)));  // (()): no 64 MiB printout

            auto checked = check_tree(data, hash, sb);
            REQUIRE(checked.ok());
            CHECK(checked.value() == m.root);
            auto verified = verify_tree(data, hash, m.root);
            REQUIRE_MESSAGE(verified.ok(), test::why(verified));
            CHECK(verified.value() == sb);
        }
    }
}

TEST_CASE("only the first data_blocks blocks count, and bytes past the tree are left alone")
{
    Superblock sb = make_sb(130, {1, 2, 3});
    Bytes bytes = test::pattern(131 * 4096 + 100, 3);
    MemoryBlockDevice data(bytes, "data");
    MemoryBlockDevice hash(Bytes(5 * 4096 + 7, 0xEE), "hash");  // 4 blocks needed
    auto root = build_tree(data, hash, sb);
    REQUIRE(root.ok());
    CHECK(root.value() == model(Bytes(bytes.begin(), bytes.begin() + 130 * 4096), sb.salt).root);
    CHECK(all_zero(ByteView(hash.bytes()).subspan(SUPERBLOCK_SIZE, 4096 - SUPERBLOCK_SIZE)));  // padding zeroed
    CHECK(Bytes(hash.bytes().begin() + 4 * 4096, hash.bytes().end()) == Bytes(4096 + 7, 0xEE));
    // Changing a block past data_blocks changes nothing.
    data.bytes()[130 * 4096] ^= 1;
    CHECK(verify_tree(data, hash, root.value()).ok());
}

TEST_CASE("a flipped byte is reported at the first block whose hash differs")
{
    Superblock sb = make_sb(128 * 128 + 1, test::pattern(32, 1));
    MemoryBlockDevice data(test::pattern(sb.data_blocks * 4096, 11), "data");
    TreeLayout layout = tree_layout(sb.data_blocks).value();
    MemoryBlockDevice hash(Bytes(layout.device_bytes, 0), "hash");
    RootHash root = build_tree(data, hash, sb).value();
    const Bytes pristine_data = data.bytes();
    const Bytes pristine_hash = hash.bytes();

    auto expect = [&](const char* what) {
        auto r = verify_tree(data, hash, root);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Crypto);
        CHECK_MESSAGE(message_of(r.error()) == what, message_of(r.error()));
        data.bytes() = pristine_data;
        hash.bytes() = pristine_hash;
    };

    data.bytes()[5000 * 4096 + 17] ^= 0x80;
    expect("data block 5000 does not match its hash in hash block 43 (level 0)");  // 4 + 5000 / 128
    data.bytes()[(128 * 128) * 4096] ^= 1;
    expect("data block 16384 does not match its hash in hash block 132 (level 0)");
    data.bytes()[7 * 4096 + 1] ^= 1;
    data.bytes()[9000 * 4096] ^= 1;
    expect("data block 7 does not match its hash in hash block 4 (level 0)");  // the first one
    hash.bytes()[4 * 4096 + 3 * 32] ^= 1;                                      // level 0's hash of data block 3
    expect("data block 3 does not match its hash in hash block 4 (level 0)");
    hash.bytes()[2 * 4096 + 5 * 32 + 31] ^= 1;  // level 1's hash of level 0 block 5 (hash block 9)
    expect("hash block 9 (level 0) does not match its hash in hash block 2 (level 1)");
    hash.bytes()[1 * 4096 + 1 * 32] ^= 1;  // the top's hash of level 1 block 1 (hash block 3)
    expect("hash block 3 (level 1) does not match its hash in hash block 1 (level 2)");
    hash.bytes()[132 * 4096 + 32] ^= 1;  // after the one hash in the last level 0 block
    expect("hash block 132 (level 0) has non-zero bytes after its 1 hashes");
    hash.bytes()[1 * 4096 + 4095] ^= 1;  // the top block holds 2 hashes
    expect("hash block 1 (level 2) has non-zero bytes after its 2 hashes");

    RootHash wrong = root;
    wrong[31] ^= 1;
    auto r = verify_tree(data, hash, wrong);
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.error()) == "the tree's root hash is " + to_hex(root) + ", expected " + to_hex(wrong));
}

TEST_CASE("a single data block: no hash blocks, its digest is the root")
{
    Superblock sb = make_sb(1, {});
    MemoryBlockDevice data(test::pattern(4096, 5), "data");
    MemoryBlockDevice hash(Bytes(4096, 0), "hash");
    RootHash root = build_tree(data, hash, sb).value();
    Bytes d = salted({}, data.bytes());
    CHECK(Bytes(root.begin(), root.end()) == d);
    data.bytes()[4095] ^= 1;
    auto r = verify_tree(data, hash, root);
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.error()).find("the tree's root hash is") == 0);
}

TEST_CASE("devices too small for the tree are refused before anything is written")
{
    Superblock sb = make_sb(129, {});
    MemoryBlockDevice data(test::pattern(129 * 4096 - 1, 1), "data");
    MemoryBlockDevice hash(Bytes(16384, 0), "hash");
    auto r = build_tree(data, hash, sb);
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.error()) == "data device data is 528383 bytes, expected at least 528384 (129 blocks of 4096)");
    CHECK(all_zero(hash.bytes()));

    MemoryBlockDevice data_ok(test::pattern(129 * 4096, 1), "data");
    MemoryBlockDevice small(Bytes(16383, 0), "hash");
    r = build_tree(data_ok, small, sb);
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.error()) == "hash device hash is 16383 bytes, expected at least 16384 for 129 data blocks");
    CHECK(all_zero(small.bytes()));

    MemoryBlockDevice empty(Bytes(4096, 0), "hash");
    auto v = verify_tree(data_ok, empty, RootHash{});
    REQUIRE_FALSE(v.ok());
    CHECK(message_of(v.error()).find("hash: verity superblock: signature is 0000000000000000") == 0);
}
