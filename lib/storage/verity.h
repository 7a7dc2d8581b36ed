// dm-verity, strict profile: the hash tree that lets the kernel check every block it reads from a
// read-only data device (the VM's root image) against one root hash carried in the measured
// kernel command line.
//
// One profile only, the one `veritysetup format` writes by default: hash type (format version) 1,
// sha256, data and hash blocks of 4096 bytes, a salt of 0 to 256 bytes, and on the hash device a
// 512-byte superblock at offset 0 padded to one hash block, then the tree from hash block 1, top
// level first. Anything else is refused, naming the field, the value found and the one expected.
//
// The algorithm (kernel Documentation/admin-guide/device-mapper/verity.rst, cryptsetup's
// lib/verity): every block of a level is hashed as SHA-256(salt || block) ("the salt is
// prepended when hashing" for version 1); 128 such digests fill a hash block of the level above,
// its unused tail zero. Level 0 hashes the data blocks; the levels stop at the first that fits in
// one hash block; the root hash is SHA-256(salt || that top block). One data block needs no hash
// block at all: its own digest is the root.
//
// All I/O goes through BlockDevice; the devices are borrowed for the duration of a call.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "storage/block_device.h"

namespace cvm::storage::verity {

inline constexpr uint32_t HASH_TYPE = 1;                               // <version> of the table: salt prepended
inline constexpr uint32_t BLOCK_BYTES = 4096;                          // data and hash blocks alike
inline constexpr size_t DIGEST_SIZE = 32;                              // sha256
inline constexpr size_t HASHES_PER_BLOCK = BLOCK_BYTES / DIGEST_SIZE;  // 128
inline constexpr size_t MAX_SALT_SIZE = 256;                           // the superblock's salt field
inline constexpr size_t SUPERBLOCK_SIZE = 512;                         // struct verity_sb
inline constexpr uint64_t HASH_START_BLOCK = 1;                        // the superblock takes hash block 0
inline constexpr const char* ALGORITHM = "sha256";                     // the kernel crypto API name, lower case
// data_blocks * BLOCK_BYTES must be a 64-bit byte offset: fewer than 2^52 blocks (16 EiB).
inline constexpr uint64_t MAX_DATA_BLOCKS = UINT64_MAX / BLOCK_BYTES;

using Uuid = std::array<uint8_t, 16>;
using RootHash = std::array<uint8_t, DIGEST_SIZE>;

// What varies between trees of the profile; everything else in the superblock is fixed.
struct Superblock {
    Uuid uuid{};              // of the hash device, as veritysetup's --uuid
    uint64_t data_blocks{0};  // 1..MAX_DATA_BLOCKS
    Bytes salt;               // 0..MAX_SALT_SIZE bytes
    bool operator==(const Superblock&) const = default;
};

// The 512 bytes of a superblock: magic "verity\0\0", version 1, hash_type 1, the uuid, "sha256"
// NUL-padded to 32 bytes, both block sizes 4096, data_blocks, salt_size, the salt zero-padded to
// 256 bytes, zeros to the end. Errc::Config when the salt is too long or data_blocks is 0 or above
// MAX_DATA_BLOCKS.
Result<std::array<uint8_t, SUPERBLOCK_SIZE>> encode_superblock(const Superblock& sb);

// Parses exactly SUPERBLOCK_SIZE bytes (untrusted: they come from the host's disk). Errc::Format
// for a wrong magic, a salt_size over 256, non-zero padding (including the salt field past
// salt_size) or a data_blocks out of range; Errc::Unsupported for a version, hash_type, algorithm or
// block size outside the profile. Every message names the field, the value found and the expected.
// parse_superblock(encode_superblock(sb)) == sb, and an accepted input re-encodes to itself.
Result<Superblock> parse_superblock(ByteView bytes);

// Reads and parses the superblock at offset 0 of `hash`.
Result<Superblock> read_superblock(BlockDevice& hash);

// Where the tree lies on the hash device. Level 0 hashes the data blocks; levels are stored top
// (levels - 1) first, from HASH_START_BLOCK.
struct TreeLayout {
    struct Level {
        uint64_t first_block;  // on the hash device, in hash blocks
        uint64_t blocks;       // hash blocks in this level
    };
    std::vector<Level> levels;  // levels[0] is level 0; empty for a single data block
    uint64_t hash_blocks{0};    // the tree's blocks, superblock excluded ("Hash blocks:")
    uint64_t device_bytes{0};   // superblock and tree ("Hash device size:")
};

// The layout for `data_blocks` (1..MAX_DATA_BLOCKS, else Errc::Config).
Result<TreeLayout> tree_layout(uint64_t data_blocks);

// Hashes the first sb.data_blocks blocks of `data` and writes the tree, then the superblock padded
// with zeros to one hash block, to `hash`, which must hold at least tree_layout().device_bytes
// (Errc::Config otherwise; the caller creates or extends image files). Bytes of `hash` past the
// tree are not touched. Flushes `hash` and returns the root hash. Errc::Io from the devices.
Result<RootHash> build_tree(BlockDevice& data, BlockDevice& hash, const Superblock& sb);

// Recomputes the whole tree from `data` and compares it, block by block from level 0 up, with the
// one stored on `hash` (the unused tail of each hash block must be zero). Returns the recomputed
// root hash. Errc::Crypto naming the first data block (or lower-level hash block) whose digest
// differs, or the hash block whose tail is not zero; Errc::Config when a device is too small.
Result<RootHash> check_tree(BlockDevice& data, BlockDevice& hash, const Superblock& sb);

// read_superblock, check_tree, and the recomputed root compared with `expected_root`
// (Errc::Crypto naming both). Returns the superblock.
Result<Superblock> verify_tree(BlockDevice& data, BlockDevice& hash, const RootHash& expected_root);

// The kernel's dm-verity target parameters for a tree of this profile:
//   "1 <data_dev> <hash_dev> 4096 4096 <data_blocks> 1 sha256 <root hex> <salt hex or ->"
// Errc::Config when a device name is empty or has a space, a control character or a quote (the
// line is split on spaces), or when the superblock's values are out of range.
Result<std::string> dm_table(std::string_view data_device, std::string_view hash_device, const Superblock& sb,
                             const RootHash& root);

// Device names as they may appear in the table and the kernel command line: printable ASCII, no
// space or quote, not empty. Errc::Config naming `what` otherwise.
Result<void> check_device_name(std::string_view name, const char* what);

// "-" for an empty salt (veritysetup's and the kernel's spelling), else lower-case hex.
std::string salt_text(ByteView salt);

// RFC 4122 text (8-4-4-4-12 hex digits, either case) <-> the 16 bytes in text order, as
// libuuid's uuid_parse/uuid_unparse. Errc::Config naming `what` for any other text.
Result<Uuid> parse_uuid(std::string_view text, const char* what);
std::string format_uuid(const Uuid& uuid);

}  // namespace cvm::storage::verity
