// The verity superblock ("struct verity_sb" of cryptsetup's lib/verity/verity.c, documented at
// gitlab.com/cryptsetup/cryptsetup/wikis/DMVerity), little-endian, 512 bytes:
//
//   offset size field
//        0    8 signature        "verity\0\0"
//        8    4 version          1 (the superblock's own version)
//       12    4 hash_type        0 Chrome OS, 1 normal (the table's <version>)
//       16   16 uuid             of the hash device, text order
//       32   32 algorithm        NUL-terminated, lower case
//       64    4 data_block_size
//       68    4 hash_block_size
//       72    8 data_blocks
//       80    2 salt_size
//       82    6 _pad1
//       88  256 salt
//      344  168 _pad2
#include <cinttypes>
#include <cstring>

#include "base/reader.h"
#include "storage/verity.h"

namespace cvm::storage::verity {
namespace {

constexpr uint8_t SIGNATURE[8] = {'v', 'e', 'r', 'i', 't', 'y', 0, 0};
constexpr uint32_t SUPERBLOCK_VERSION = 1;
constexpr size_t ALGORITHM_FIELD_SIZE = 32;
constexpr size_t SALT_OFFSET = 88;
constexpr size_t PAD1_SIZE = 6;
constexpr size_t PAD2_SIZE = 168;
static_assert(SALT_OFFSET + MAX_SALT_SIZE + PAD2_SIZE == SUPERBLOCK_SIZE);

Error field_error(Errc code, const char* field, uint64_t found, const char* expected)
{
    return Error::make(code, "verity superblock: %s is %" PRIu64 ", expected %s", field, found, expected);
}

Result<void> check_range(uint64_t data_blocks)
{
    if (data_blocks == 0 || data_blocks > MAX_DATA_BLOCKS)
        return Error::make(Errc::Config, "verity data_blocks is %" PRIu64 ", expected 1 to %" PRIu64, data_blocks,
                           MAX_DATA_BLOCKS);
    return {};
}

}  // namespace

Result<std::array<uint8_t, SUPERBLOCK_SIZE>> encode_superblock(const Superblock& sb)
{
    TRY(check_range(sb.data_blocks));
    if (sb.salt.size() > MAX_SALT_SIZE)
        return Error::make(Errc::Config, "verity salt is %zu bytes, expected at most %zu", sb.salt.size(),
                           MAX_SALT_SIZE);
    std::array<uint8_t, SUPERBLOCK_SIZE> out{};
    memcpy(out.data(), SIGNATURE, sizeof SIGNATURE);
    put_le32(&out[8], SUPERBLOCK_VERSION);
    put_le32(&out[12], HASH_TYPE);
    memcpy(&out[16], sb.uuid.data(), sb.uuid.size());
    memcpy(&out[32], ALGORITHM, strlen(ALGORITHM));
    put_le32(&out[64], BLOCK_BYTES);
    put_le32(&out[68], BLOCK_BYTES);
    put_le64(&out[72], sb.data_blocks);
    out[80] = static_cast<uint8_t>(sb.salt.size());
    out[81] = static_cast<uint8_t>(sb.salt.size() >> 8);
    if (!sb.salt.empty())
        memcpy(&out[SALT_OFFSET], sb.salt.data(), sb.salt.size());
    return out;
}

Result<Superblock> parse_superblock(ByteView bytes)
{
    Reader r(bytes, "verity superblock");
    ByteView signature = TRY(r.bytes(sizeof SIGNATURE, "signature"));
    if (memcmp(signature.data(), SIGNATURE, sizeof SIGNATURE) != 0)
        return Error::make(Errc::Format,
                           "verity superblock: signature is %s, expected 7665726974790000 (\"verity\\0\\0\")",
                           to_hex(signature).c_str());
    uint32_t version = TRY(r.u32le("version"));
    if (version != SUPERBLOCK_VERSION)
        return field_error(Errc::Unsupported, "version", version, "1");
    uint32_t hash_type = TRY(r.u32le("hash_type"));
    if (hash_type != HASH_TYPE)
        return field_error(Errc::Unsupported, "hash_type", hash_type, "1 (0 is the Chrome OS format)");
    Superblock sb;
    sb.uuid = TRY(r.array<16>("uuid"));

    ByteView algorithm = TRY(r.bytes(ALGORITHM_FIELD_SIZE, "algorithm"));
    size_t name_length = strnlen(reinterpret_cast<const char*>(algorithm.data()), algorithm.size());
    std::string name(reinterpret_cast<const char*>(algorithm.data()), name_length);
    if (name != ALGORITHM) {
        for (char& c : name)
            c = (c < 0x20 || c > 0x7e || c == '"') ? '?' : c;  // shown, never interpreted
        return Error::make(Errc::Unsupported, "verity superblock: algorithm is \"%s\", expected \"sha256\"",
                           name.c_str());
    }
    if (!all_zero(algorithm.subspan(name_length)))
        return Error::make(Errc::Format, "verity superblock: algorithm has non-zero bytes after \"sha256\", "
                                         "expected NUL padding");

    uint32_t data_block_size = TRY(r.u32le("data_block_size"));
    if (data_block_size != BLOCK_BYTES)
        return field_error(Errc::Unsupported, "data_block_size", data_block_size, "4096");
    uint32_t hash_block_size = TRY(r.u32le("hash_block_size"));
    if (hash_block_size != BLOCK_BYTES)
        return field_error(Errc::Unsupported, "hash_block_size", hash_block_size, "4096");
    sb.data_blocks = TRY(r.u64le("data_blocks"));
    if (sb.data_blocks == 0 || sb.data_blocks > MAX_DATA_BLOCKS)
        return field_error(Errc::Format, "data_blocks", sb.data_blocks, "1 to 4503599627370495");
    uint16_t salt_size = TRY(r.u16le("salt_size"));
    if (salt_size > MAX_SALT_SIZE)
        return field_error(Errc::Format, "salt_size", salt_size, "at most 256");
    TRY(r.zeros(PAD1_SIZE, "_pad1"));
    ByteView salt = TRY(r.bytes(salt_size, "salt"));
    sb.salt.assign(salt.begin(), salt.end());
    TRY(r.zeros(MAX_SALT_SIZE - salt_size, "salt (past salt_size)"));
    TRY(r.zeros(PAD2_SIZE, "_pad2"));
    TRY(r.finish());
    return sb;
}

Result<Superblock> read_superblock(BlockDevice& hash)
{
    std::array<uint8_t, SUPERBLOCK_SIZE> bytes;
    TRY(hash.read_at(0, bytes));
    return TRY_PREFIX(parse_superblock(bytes), "%s", hash.name().c_str());
}

std::string salt_text(ByteView salt)
{
    return salt.empty() ? "-" : to_hex(salt);
}

Result<Uuid> parse_uuid(std::string_view text, const char* what)
{
    // 8-4-4-4-12: dashes at 8, 13, 18 and 23, hex digits elsewhere.
    Uuid out{};
    bool ok = text.size() == 36;
    std::string hex;
    for (size_t i = 0; ok && i < text.size(); ++i) {
        bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
        ok = dash_here ? text[i] == '-' : text[i] != '-';
        if (!dash_here)
            hex.push_back(text[i]);
    }
    auto bytes = ok ? from_hex(hex) : std::nullopt;
    if (!bytes || bytes->size() != out.size())
        return Error::make(Errc::Config, "%s '%.*s': expected a UUID, 8-4-4-4-12 hex digits", what,
                           static_cast<int>(std::min<size_t>(text.size(), 64)), text.data());
    memcpy(out.data(), bytes->data(), out.size());
    return out;
}

std::string format_uuid(const Uuid& uuid)
{
    std::string hex = to_hex(uuid);
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
           hex.substr(20);
}

}  // namespace cvm::storage::verity
