// Interop with the reference implementation, both ways: veritysetup verifies our trees, we verify
// veritysetup's, and for the same data, salt and UUID the hash devices are byte for byte the same.
// Skipped with a message when veritysetup is not installed.
#include <doctest.h>
#include <fcntl.h>

#include <string>

#include "storage/verity.h"
#include "verity_fixture.h"

using namespace cvm;
using namespace cvm::storage;
using namespace cvm::storage::verity;

namespace {

constexpr const char* UUID_TEXT = "6a3f5e1c-2b4d-4e8f-9a7c-1d3b5f7e9c2a";

// Our tree for `data_path` in a new file `hash_path`; the root hash.
RootHash build_file(const std::string& data_path, const std::string& hash_path, const Superblock& sb)
{
    {
        UniqueFd fd{::open(hash_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
        REQUIRE(fd.valid());
        REQUIRE(ftruncate(fd.get(), static_cast<off_t>(tree_layout(sb.data_blocks).value().device_bytes)) == 0);
    }
    auto data = FileBlockDevice::open(data_path, FileBlockDevice::Mode::ReadOnly);
    auto hash = FileBlockDevice::open(hash_path, FileBlockDevice::Mode::ReadWrite);
    REQUIRE(data.ok());
    REQUIRE(hash.ok());
    auto root = build_tree(data.value(), hash.value(), sb);
    REQUIRE_MESSAGE(root.ok(), test::why(root));
    return root.value();
}

Result<Superblock> verify_files(const std::string& data_path, const std::string& hash_path, const RootHash& root)
{
    auto data = TRY(FileBlockDevice::open(data_path, FileBlockDevice::Mode::ReadOnly));
    auto hash = TRY(FileBlockDevice::open(hash_path, FileBlockDevice::Mode::ReadOnly));
    return verify_tree(data, hash, root);
}

// The "Root hash:" of a `veritysetup format` transcript.
RootHash root_from_output(const std::string& text)
{
    size_t at = text.find("Root hash:      \t");
    REQUIRE(at != std::string::npos);
    auto bytes = from_hex(text.substr(at + 17, 64));
    REQUIRE(bytes.has_value());
    RootHash root;
    std::copy(bytes->begin(), bytes->end(), root.begin());
    return root;
}

}  // namespace

TEST_CASE("veritysetup and we make and accept the same trees")
{
    std::string vs = test::veritysetup();
    if (vs.empty()) {
        MESSAGE("veritysetup is not on PATH: interop test skipped");
        return;
    }
    struct Case {
        uint64_t blocks;
        Bytes salt;
    };
    const Case cases[] = {
        {1, {}},
        {1, {0xAB}},
        {128, test::pattern(32, 1)},
        {129, {}},
        {129, test::pattern(256, 2)},
        {128 * 128 + 1, test::pattern(32, 3)},
    };
    test::VerityTempDir dir;
    for (const Case& c : cases) {
        CAPTURE(c.blocks);
        CAPTURE(c.salt.size());
        std::string data = dir / "data", ours = dir / "ours", theirs = dir / "theirs", out = dir / "out";
        test::write_whole_file(data, test::pattern(c.blocks * 4096 + 123, static_cast<uint32_t>(c.blocks)));
        Superblock sb;
        sb.uuid = parse_uuid(UUID_TEXT, "uuid").value();
        sb.data_blocks = c.blocks;
        sb.salt = c.salt;
        RootHash root = build_file(data, ours, sb);

        // veritysetup accepts our tree and root.
        CHECK(test::run_shell(vs + " verify " + data + " " + ours + " " + to_hex(root), out) == 0);

        // veritysetup's own tree: same root, same bytes, and we accept it.
        unlink(theirs.c_str());
        REQUIRE(test::run_shell(vs + " format " + data + " " + theirs + " --salt " + salt_text(c.salt) + " --uuid " +
                                    UUID_TEXT,
                                out) == 0);
        Bytes transcript = test::read_whole_file(out);
        CHECK(root_from_output(std::string(transcript.begin(), transcript.end())) == root);
        CHECK((test::read_whole_file(theirs) == test::read_whole_file(ours)));  // (()): no 64 MiB printout
        auto verified = verify_files(data, theirs, root);
        REQUIRE_MESSAGE(verified.ok(), test::why(verified));
        CHECK(verified.value() == sb);
    }
}

TEST_CASE("a flipped data byte fails both verifiers, and ours names the block")
{
    test::VerityTempDir dir;
    std::string data = dir / "data", hash = dir / "hash", out = dir / "out";
    Bytes bytes = test::pattern(300 * 4096, 9);
    test::write_whole_file(data, bytes);
    Superblock sb;
    sb.uuid = parse_uuid(UUID_TEXT, "uuid").value();
    sb.data_blocks = 300;
    sb.salt = {1, 2, 3, 4};
    RootHash root = build_file(data, hash, sb);
    CHECK(verify_files(data, hash, root).ok());

    bytes[222 * 4096 + 4095] ^= 0x01;
    test::write_whole_file(data, bytes);
    auto r = verify_files(data, hash, root);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()) == "data block 222 does not match its hash in hash block 3 (level 0)");

    std::string vs = test::veritysetup();
    if (vs.empty()) {
        MESSAGE("veritysetup is not on PATH: its half of the test skipped");
        return;
    }
    CHECK(test::run_shell(vs + " verify " + data + " " + hash + " " + to_hex(root), out) != 0);
    Bytes transcript = test::read_whole_file(out);
    // "Verification failed at position 909312.": the byte offset of data block 222.
    CHECK(std::string(transcript.begin(), transcript.end()).find("position 909312.") != std::string::npos);
}
