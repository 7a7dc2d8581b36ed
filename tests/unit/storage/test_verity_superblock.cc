// The verity superblock: veritysetup's bytes, and a refusal naming the field for every byte that
// strays from the profile. Also the layout arithmetic, UUID text and the kernel table line.
#include <doctest.h>

#include <cstring>
#include <string>

#include "storage/verity.h"

using namespace cvm;
using namespace cvm::storage::verity;

namespace {

// `veritysetup format` (cryptsetup 2.6.1) of 129 data blocks with --salt 00112233
// --uuid 12345678-1234-1234-1234-123456789abc: the first 92 bytes of the hash device; the rest of
// the 512 are zero.
constexpr const char* GOLDEN_HEAD = "7665726974790000010000000100000012345678123412341234123456789abc"
                                    "7368613235360000000000000000000000000000000000000000000000000000"
                                    "0010000000100000810000000000000004000000000000000011223300000000";

Bytes golden()
{
    Bytes out = from_hex(GOLDEN_HEAD).value();
    out.resize(SUPERBLOCK_SIZE, 0);
    return out;
}

Superblock golden_fields()
{
    Superblock sb;
    sb.uuid = parse_uuid("12345678-1234-1234-1234-123456789abc", "uuid").value();
    sb.data_blocks = 129;
    sb.salt = {0x00, 0x11, 0x22, 0x33};
    return sb;
}

std::string message_of(const Result<Superblock>& r)
{
    return r.ok() ? std::string("(accepted)") : std::string(r.error().message());
}

// Parses `bytes` after `change`; the refusal must carry every one of `needles`.
template <typename Change>
void refused(Change change, std::initializer_list<const char*> needles, Errc code)
{
    Bytes bytes = golden();
    change(bytes);
    auto r = parse_superblock(bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == code);
    for (const char* needle : needles)
        CHECK_MESSAGE(message_of(r).find(needle) != std::string::npos, message_of(r), " lacks ", needle);
}

}  // namespace

TEST_CASE("the superblock encodes to veritysetup's bytes and parses back")
{
    auto encoded = encode_superblock(golden_fields());
    REQUIRE(encoded.ok());
    CHECK(Bytes(encoded->begin(), encoded->end()) == golden());
    auto parsed = parse_superblock(golden());
    REQUIRE_MESSAGE(parsed.ok(), message_of(parsed));
    CHECK(parsed.value() == golden_fields());

    for (size_t salt_size : {size_t{0}, size_t{1}, size_t{32}, MAX_SALT_SIZE}) {
        Superblock sb = golden_fields();
        sb.salt.assign(salt_size, 0xA5);
        sb.data_blocks = MAX_DATA_BLOCKS;
        auto bytes = encode_superblock(sb);
        REQUIRE(bytes.ok());
        auto back = parse_superblock(bytes.value());
        REQUIRE_MESSAGE(back.ok(), message_of(back));
        CHECK(back.value() == sb);
    }
}

TEST_CASE("encoding refuses what the format cannot carry")
{
    Superblock sb = golden_fields();
    sb.salt.assign(MAX_SALT_SIZE + 1, 1);
    CHECK_FALSE(encode_superblock(sb).ok());
    sb = golden_fields();
    sb.data_blocks = 0;
    CHECK_FALSE(encode_superblock(sb).ok());
    sb.data_blocks = MAX_DATA_BLOCKS + 1;
    CHECK_FALSE(encode_superblock(sb).ok());
}

TEST_CASE("every superblock field outside the profile is refused, naming field, value and expectation")
{
    for (size_t i = 0; i < 8; ++i)
        refused([&](Bytes& b) { b[i] ^= 0x20; }, {"signature", "expected 7665726974790000"}, Errc::Format);
    refused([](Bytes& b) { b[8] = 0; }, {"version is 0", "expected 1"}, Errc::Unsupported);
    refused([](Bytes& b) { b[8] = 2; }, {"version is 2"}, Errc::Unsupported);
    refused([](Bytes& b) { b[11] = 1; }, {"version is 16777217"}, Errc::Unsupported);
    refused([](Bytes& b) { b[12] = 0; }, {"hash_type is 0", "expected 1"}, Errc::Unsupported);
    refused([](Bytes& b) { b[12] = 2; }, {"hash_type is 2"}, Errc::Unsupported);
    refused([](Bytes& b) { memcpy(&b[32], "sha1\0\0", 6); }, {"algorithm is \"sha1\"", "expected \"sha256\""},
            Errc::Unsupported);
    refused([](Bytes& b) { memcpy(&b[32], "SHA256", 6); }, {"algorithm is \"SHA256\""}, Errc::Unsupported);
    refused([](Bytes& b) { memcpy(&b[32], "sha2567", 7); }, {"algorithm is \"sha2567\""}, Errc::Unsupported);
    refused([](Bytes& b) { memset(&b[32], 'a', 32); }, {"algorithm is \"aaaa"}, Errc::Unsupported);
    refused([](Bytes& b) { b[32] = 0x1b; }, {"algorithm is \"?ha256\""}, Errc::Unsupported);
    for (size_t i = 39; i < 64; ++i)
        refused([&](Bytes& b) { b[i] = 'x'; }, {"algorithm has non-zero bytes after \"sha256\""}, Errc::Format);
    refused([](Bytes& b) { b[65] = 0x02; }, {"data_block_size is 512", "expected 4096"}, Errc::Unsupported);
    refused([](Bytes& b) { b[65] = 0x20; }, {"data_block_size is 8192"}, Errc::Unsupported);
    refused([](Bytes& b) { b[69] = 0x02; }, {"hash_block_size is 512", "expected 4096"}, Errc::Unsupported);
    refused([](Bytes& b) { b[72] = 0; }, {"data_blocks is 0", "expected 1 to 4503599627370495"}, Errc::Format);
    refused([](Bytes& b) { b[78] = 0x10; }, {"data_blocks is 4503599627370625"}, Errc::Format);
    refused([](Bytes& b) { b[80] = 1, b[81] = 1; }, {"salt_size is 257", "expected at most 256"}, Errc::Format);
    refused([](Bytes& b) { b[80] = 0xff, b[81] = 0xff; }, {"salt_size is 65535"}, Errc::Format);
    for (size_t i = 82; i < 88; ++i)
        refused([&](Bytes& b) { b[i] = 1; }, {"_pad1"}, Errc::Format);
    for (size_t i = 92; i < 344; ++i)
        refused([&](Bytes& b) { b[i] = 1; }, {"salt (past salt_size)"}, Errc::Format);
    for (size_t i = 344; i < SUPERBLOCK_SIZE; ++i)
        refused([&](Bytes& b) { b[i] = 0x80; }, {"_pad2"}, Errc::Format);
}

TEST_CASE("a superblock must be exactly 512 bytes")
{
    Bytes bytes = golden();
    bytes.pop_back();
    auto truncated = parse_superblock(bytes);
    REQUIRE_FALSE(truncated.ok());
    CHECK(message_of(truncated).find("_pad2") != std::string::npos);
    bytes = golden();
    bytes.push_back(0);
    CHECK_FALSE(parse_superblock(bytes).ok());
    CHECK_FALSE(parse_superblock({}).ok());
    // The whole salt field in use is still exactly 512 bytes.
    Bytes full = golden();
    full[80] = 0, full[81] = 1;
    memset(&full[88], 0x5a, MAX_SALT_SIZE);
    auto parsed = parse_superblock(full);
    REQUIRE_MESSAGE(parsed.ok(), message_of(parsed));
    CHECK(parsed->salt == Bytes(MAX_SALT_SIZE, 0x5a));
}

TEST_CASE("tree layout: levels, top level first from hash block 1")
{
    auto one = tree_layout(1);
    REQUIRE(one.ok());
    CHECK(one->levels.empty());
    CHECK(one->hash_blocks == 0);
    CHECK(one->device_bytes == 4096);

    auto full = tree_layout(128);
    REQUIRE(full.ok());
    REQUIRE(full->levels.size() == 1);
    CHECK(full->levels[0].first_block == 1);
    CHECK(full->levels[0].blocks == 1);
    CHECK(full->device_bytes == 2 * 4096);

    auto two = tree_layout(129);
    REQUIRE(two.ok());
    REQUIRE(two->levels.size() == 2);
    CHECK(two->levels[1].first_block == 1);  // top
    CHECK(two->levels[1].blocks == 1);
    CHECK(two->levels[0].first_block == 2);
    CHECK(two->levels[0].blocks == 2);
    CHECK(two->hash_blocks == 3);
    CHECK(two->device_bytes == 16384);

    auto three = tree_layout(128 * 128 + 1);
    REQUIRE(three.ok());
    REQUIRE(three->levels.size() == 3);
    CHECK(three->levels[2].first_block == 1);
    CHECK(three->levels[1].first_block == 2);
    CHECK(three->levels[1].blocks == 2);
    CHECK(three->levels[0].first_block == 4);
    CHECK(three->levels[0].blocks == 129);
    CHECK(three->hash_blocks == 132);

    auto max = tree_layout(MAX_DATA_BLOCKS);
    REQUIRE(max.ok());
    CHECK(max->levels.size() == 8);  // 128^7 < 2^52 <= 128^8
    CHECK(max->levels.back().blocks == 1);
    CHECK_FALSE(tree_layout(0).ok());
    CHECK_FALSE(tree_layout(MAX_DATA_BLOCKS + 1).ok());
}

TEST_CASE("UUID text as libuuid reads and writes it")
{
    auto uuid = parse_uuid("12345678-9ABC-def0-1234-56789abcdef0", "--uuid");
    REQUIRE(uuid.ok());
    CHECK(to_hex(uuid.value()) == "123456789abcdef0123456789abcdef0");
    CHECK(format_uuid(uuid.value()) == "12345678-9abc-def0-1234-56789abcdef0");
    for (const char* bad : {"", "12345678123412341234123456789abc", "12345678-1234-1234-1234-123456789ab",
                            "12345678-1234-1234-1234-123456789abcd", "1234567-81234-1234-1234-123456789abc",
                            "12345678-1234-1234-1234-123456789abg", "12345678-1234-1234-1234-12345678-abc"}) {
        auto r = parse_uuid(bad, "--uuid");
        REQUIRE_FALSE(r.ok());
        CHECK(std::string(r.error().message()).find("--uuid") == 0);
    }
}

TEST_CASE("the dm-verity table line the agent loads")
{
    Superblock sb = golden_fields();
    RootHash root{};
    root[0] = 0xab;
    root[31] = 0x01;
    auto line = dm_table("/dev/vda", "/dev/vdb", sb, root);
    REQUIRE(line.ok());
    CHECK(line.value() == "1 /dev/vda /dev/vdb 4096 4096 129 1 sha256 "
                          "ab00000000000000000000000000000000000000000000000000000000000001 00112233");
    sb.salt.clear();
    CHECK(dm_table("253:0", "/dev/vdb", sb, root).value().ends_with("00000001 -"));
    CHECK_FALSE(dm_table("", "/dev/vdb", sb, root).ok());
    CHECK_FALSE(dm_table("/dev/vda 0", "/dev/vdb", sb, root).ok());
    CHECK_FALSE(dm_table("/dev/vda", "/dev/\"vdb", sb, root).ok());
    CHECK_FALSE(dm_table("/dev/vda", "/dev/vdb\n", sb, root).ok());
    sb.data_blocks = 0;
    CHECK_FALSE(dm_table("/dev/vda", "/dev/vdb", sb, root).ok());
    CHECK(salt_text({}) == "-");
}
