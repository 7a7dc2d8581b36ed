// cvm verity: dm-verity hash trees for a read-only root image (lib/storage/verity.h), interchangeable
// with veritysetup's for the one profile cvminit uses.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "args.h"
#include "commands.h"
#include "storage/block_device.h"
#include "storage/verity.h"

namespace cvm::cli {
namespace {

using namespace cvm::storage;

constexpr const char* USAGE = R"(usage: cvm verity format DATA HASH [--salt HEX|-] [--uuid UUID] [--data-blocks N]
       cvm verity cmdline DATA HASH --data-device DEV --hash-device DEV
       cvm verity verify DATA HASH ROOT

dm-verity hash trees for a read-only image, one profile: hash type 1, sha256, 4096-byte data and
hash blocks, a superblock in hash block 0 and the tree from hash block 1 -- what
`veritysetup format` writes by default. DATA and HASH are image files or block devices.

format hashes DATA and writes the superblock and the tree to HASH, which is created (mode 0600)
when missing and extended when shorter, never truncated. It prints what `veritysetup format`
prints, the root hash included; the same data, salt and UUID give the same HASH bytes.
  --salt HEX|-        0 to 256 bytes in hex, - for none (default: 32 random bytes)
  --uuid UUID         the hash device's UUID (default: a random one)
  --data-blocks N     the 4096-byte blocks of DATA to cover (default: all whole blocks)

cmdline checks the tree on HASH against DATA and prints the agent's kernel parameters for it:
  cvminit.verity.data=DEV cvminit.verity.hash=DEV cvminit.verity.blocks=N
  cvminit.verity.root=HEX cvminit.verity.salt=HEX|-
  --data-device DEV   DATA as the VM sees it, e.g. /dev/vda
  --hash-device DEV   HASH as the VM sees it, e.g. /dev/vdb

verify recomputes the tree from DATA and compares it with HASH and with ROOT (64 hex digits), as
`veritysetup verify` does; it prints nothing when they match, else the first bad block.

exit status: 0 success, 1 the tree or the root hash does not match, 2 usage or input error
)";

int fail(const Error& e)
{
    return usage_failure("verity", e);
}

Result<Bytes> parse_salt(const std::optional<std::string>& flag)
{
    if (!flag) {
        Bytes salt(32);  // veritysetup's DEFAULT_VERITY_SALT_SIZE
        randombytes_buf(salt.data(), salt.size());
        return salt;
    }
    if (*flag == "-")
        return Bytes{};
    auto salt = from_hex(*flag);
    if (!salt || salt->size() > verity::MAX_SALT_SIZE)
        return Error::make(Errc::Config,
                           "--salt: expected 0 to 256 bytes in hex (even length) or -, got %zu characters",
                           flag->size());
    return *salt;
}

// libuuid's uuid_generate: a version 4 (random) UUID.
std::string random_uuid()
{
    verity::Uuid uuid;
    randombytes_buf(uuid.data(), uuid.size());
    uuid[6] = static_cast<uint8_t>((uuid[6] & 0x0f) | 0x40);
    uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3f) | 0x80);
    return verity::format_uuid(uuid);
}

Result<uint64_t> parse_blocks(const std::string& text)
{
    // At most 16 digits: MAX_DATA_BLOCKS has 16, so strtoull cannot overflow.
    bool digits = !text.empty() && text.size() <= 16 && text.find_first_not_of("0123456789") == std::string::npos;
    uint64_t value = digits ? strtoull(text.c_str(), nullptr, 10) : 0;
    if (!digits || value == 0 || value > verity::MAX_DATA_BLOCKS)
        return Error::make(Errc::Config, "--data-blocks '%s': expected a whole number from 1 to %" PRIu64, text.c_str(),
                           verity::MAX_DATA_BLOCKS);
    return value;
}

// As veritysetup: HASH is created (0600) when missing and never truncated; a regular file shorter
// than the tree is extended with zeros (veritysetup's writes extend it the same way). A block
// device must already be large enough.
Result<void> prepare_hash(const std::string& data, const std::string& hash, uint64_t bytes)
{
    UniqueFd fd{::open(hash.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600)};
    if (!fd.valid())
        return Error::from_errno(Errc::Io, errno, "cannot create hash image %s: %s", hash.c_str(), strerror(errno));
    struct stat h {
    }, d{};
    if (fstat(fd.get(), &h) != 0 || stat(data.c_str(), &d) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot stat %s or %s: %s", data.c_str(), hash.c_str(),
                                 strerror(errno));
    if (h.st_dev == d.st_dev && h.st_ino == d.st_ino)
        return Error::make(Errc::Config, "DATA and HASH are the same file; the tree needs its own device");
    if (S_ISREG(h.st_mode) && static_cast<uint64_t>(h.st_size) < bytes && ftruncate(fd.get(), bytes) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot extend %s to %" PRIu64 " bytes: %s", hash.c_str(), bytes,
                                 strerror(errno));
    return {};
}

Result<void> format(const Args& args)
{
    const auto& words = args.positional();
    if (words.size() != 3)
        return Error::make(Errc::Config, "format takes DATA and HASH (see cvm verity --help)");
    const std::string& data_path = words[1];
    const std::string& hash_path = words[2];
    verity::Superblock sb;
    sb.salt = TRY(parse_salt(args.get("salt")));
    auto flag_uuid = args.get("uuid");
    std::string uuid = flag_uuid ? *flag_uuid : random_uuid();  // printed as given, as veritysetup does
    sb.uuid = TRY(verity::parse_uuid(uuid, "--uuid"));

    FileBlockDevice data = TRY(FileBlockDevice::open(data_path, FileBlockDevice::Mode::ReadOnly));
    if (auto blocks = args.get("data-blocks"))
        sb.data_blocks = TRY(parse_blocks(*blocks));
    else if ((sb.data_blocks = data.size() / verity::BLOCK_BYTES) == 0)
        return Error::make(Errc::Config, "%s is %" PRIu64 " bytes, expected at least one 4096-byte block",
                           data_path.c_str(), data.size());
    verity::TreeLayout layout = TRY(verity::tree_layout(sb.data_blocks));
    if (data.size() / verity::BLOCK_BYTES < sb.data_blocks)
        return Error::make(Errc::Config, "%s is %" PRIu64 " bytes, expected at least %" PRIu64 " for --data-blocks",
                           data_path.c_str(), data.size(), sb.data_blocks * verity::BLOCK_BYTES);

    TRY(prepare_hash(data_path, hash_path, layout.device_bytes));
    FileBlockDevice hash = TRY(FileBlockDevice::open(hash_path, FileBlockDevice::Mode::ReadWrite));
    verity::RootHash root = TRY(verity::build_tree(data, hash, sb));

    // veritysetup's crypt_dump() for VERITY, field for field (cryptsetup 2.6 lib/verity/verity.c).
    printf("VERITY header information for %s\n", hash_path.c_str());
    printf("UUID:            \t%s\n", uuid.c_str());
    printf("Hash type:       \t%" PRIu32 "\n", verity::HASH_TYPE);
    printf("Data blocks:     \t%" PRIu64 "\n", sb.data_blocks);
    printf("Data block size: \t%" PRIu32 "\n", verity::BLOCK_BYTES);
    printf("Hash blocks:     \t%" PRIu64 "\n", layout.hash_blocks);
    printf("Hash block size: \t%" PRIu32 "\n", verity::BLOCK_BYTES);
    printf("Hash algorithm:  \t%s\n", verity::ALGORITHM);
    printf("Salt:            \t%s\n", verity::salt_text(sb.salt).c_str());
    printf("Root hash:      \t%s\n", to_hex(root).c_str());
    printf("Hash device size: \t%" PRIu64 " [bytes]\n", layout.device_bytes);
    return {};
}

Result<void> cmdline(const Args& args)
{
    const auto& words = args.positional();
    auto data_device = args.get("data-device");
    auto hash_device = args.get("hash-device");
    if (words.size() != 3 || !data_device || !hash_device)
        return Error::make(Errc::Config, "cmdline takes DATA HASH --data-device DEV --hash-device DEV");
    TRY(verity::check_device_name(*data_device, "--data-device"));
    TRY(verity::check_device_name(*hash_device, "--hash-device"));
    FileBlockDevice data = TRY(FileBlockDevice::open(words[1], FileBlockDevice::Mode::ReadOnly));
    FileBlockDevice hash = TRY(FileBlockDevice::open(words[2], FileBlockDevice::Mode::ReadOnly));
    verity::Superblock sb = TRY(verity::read_superblock(hash));
    // The root printed is the one recomputed from DATA, never one read from HASH.
    verity::RootHash root = TRY(verity::check_tree(data, hash, sb));
    printf("cvminit.verity.data=%s cvminit.verity.hash=%s cvminit.verity.blocks=%" PRIu64
           " cvminit.verity.root=%s cvminit.verity.salt=%s\n",
           data_device->c_str(), hash_device->c_str(), sb.data_blocks, to_hex(root).c_str(),
           verity::salt_text(sb.salt).c_str());
    return {};
}

Result<void> verify(const Args& args)
{
    const auto& words = args.positional();
    if (words.size() != 4)
        return Error::make(Errc::Config, "verify takes DATA HASH ROOT (see cvm verity --help)");
    auto root_bytes = from_hex(words[3]);
    if (!root_bytes || root_bytes->size() != verity::DIGEST_SIZE)
        return Error::make(Errc::Config, "ROOT '%.80s': expected 64 hex digits (a sha256 root hash)", words[3].c_str());
    verity::RootHash root;
    memcpy(root.data(), root_bytes->data(), root.size());
    FileBlockDevice data = TRY(FileBlockDevice::open(words[1], FileBlockDevice::Mode::ReadOnly));
    FileBlockDevice hash = TRY(FileBlockDevice::open(words[2], FileBlockDevice::Mode::ReadOnly));
    TRY(verity::verify_tree(data, hash, root));
    return {};
}

Result<void> run(const Args& args)
{
    const auto& words = args.positional();
    std::string sub = words.empty() ? "" : words[0];
    if (sub == "format") {
        TRY(refuse_flags(args, "format", {"data-device", "hash-device"}));
        return format(args);
    }
    if (sub == "cmdline") {
        TRY(refuse_flags(args, "cmdline", {"salt", "uuid", "data-blocks"}));
        return cmdline(args);
    }
    if (sub == "verify") {
        TRY(refuse_flags(args, "verify", {"salt", "uuid", "data-blocks", "data-device", "hash-device"}));
        return verify(args);
    }
    return Error::make(Errc::Config, "expected format, cmdline or verify (see cvm verity --help)");
}

}  // namespace

int cmd_verity(const std::vector<std::string>& argv)
{
    auto parsed = parse_command("verity", argv,
                                {{"salt", Takes::Value},
                                 {"uuid", Takes::Value},
                                 {"data-blocks", Takes::Value},
                                 {"data-device", Takes::Value},
                                 {"hash-device", Takes::Value}},
                                USAGE, Positional::Allowed);
    if (auto* status = std::get_if<int>(&parsed))
        return *status;
    Result<void> done = run(std::get<Args>(parsed));
    if (done.ok())
        return EXIT_OK;
    // The bytes on the disks disagree with the tree or the root: a verdict, not a usage error.
    Errc code = done.error().code();
    if (code == Errc::Crypto || code == Errc::Format || code == Errc::Unsupported) {
        fprintf(stderr, "cvm verity: %.*s\n", static_cast<int>(done.error().message().size()),
                done.error().message().data());
        return EXIT_REJECTED;
    }
    return fail(done.error());
}

}  // namespace cvm::cli
