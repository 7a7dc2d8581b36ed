// The newc cpio format the kernel unpacks into its initial rootfs: a reproducible writer and a
// strict reader.
//
// Format: Linux Documentation/driver-api/early-userspace/buffer-format.rst. Each member is a
// 110-byte header of the magic "070701" and thirteen 8-digit hexadecimal fields, the NUL-terminated
// name, zero padding to a multiple of 4, the data, zero padding to a multiple of 4; the archive
// ends with a member named "TRAILER!!!".
//
// The bytes of an initramfs are part of the launch measurement, so the writer makes them a
// function of the entries' paths, types and contents only (DESIGN.md §8):
//   - entries in bytewise order of their paths, which puts every directory before its contents;
//     missing parent directories are added; no entry for the root itself;
//   - c_ino 1, 2, 3, ... in output order; c_nlink 2 for directories, 1 for everything else (as the
//     kernel's usr/gen_init_cpio.c writes them; with nlink 1 the kernel never treats two members
//     as hard links, see "Handling of hard links" in the format document);
//   - c_uid and c_gid 0; c_mtime one fixed value for every entry (SOURCE_DATE_EPOCH, or 0);
//   - permissions normalised: directories 0755, files 0644 or 0755, symlinks 0777; no setuid,
//     setgid or sticky bits; c_maj, c_min, c_rmaj, c_rmin and c_chksum 0;
//   - upper-case hexadecimal, as GNU cpio and gen_init_cpio write it;
//   - the archive ends right after the trailer's padding (no 512-byte blocking).
// Only directories, regular files and symlinks: the agent mounts devtmpfs for device nodes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "initramfs/sink.h"

namespace cvm::initramfs {

inline constexpr size_t NEWC_HEADER_SIZE = 110;
inline constexpr size_t NEWC_ALIGN = 4;
inline constexpr std::string_view NEWC_MAGIC = "070701";
inline constexpr std::string_view NEWC_CRC_MAGIC = "070702";
inline constexpr std::string_view TRAILER_NAME = "TRAILER!!!";
// The kernel skips a member whose c_namesize (the name and its NUL) exceeds PATH_MAX.
inline constexpr size_t MAX_PATH_BYTES = 4096 - 1;
inline constexpr size_t MAX_COMPONENT_BYTES = 255;  // NAME_MAX
// c_filesize is 8 hex digits.
inline constexpr uint64_t MAX_FILE_BYTES = UINT32_MAX;
// The guest holds the archive and its unpacked copy in RAM before the workload starts; a
// workload that needs more belongs on the verity disk. Counted on the uncompressed archive.
inline constexpr uint64_t MAX_ARCHIVE_BYTES = uint64_t(2) << 30;
inline constexpr size_t MAX_ENTRIES = size_t(1) << 20;

// st_mode values the writer emits (type bits | permissions).
inline constexpr uint32_t MODE_DIRECTORY = 0040755;
inline constexpr uint32_t MODE_FILE = 0100644;
inline constexpr uint32_t MODE_EXECUTABLE = 0100755;
inline constexpr uint32_t MODE_SYMLINK = 0120777;

enum class EntryType : uint8_t { Directory, File, Symlink };
enum class Exec : uint8_t { No, Yes };

// Normalises a path inside the archive: leading '/', repeated '/' and "." components are dropped
// ("/etc//./x" -> "etc/x"). Errc::Config, naming the path, when it is empty or names the root,
// contains NUL or a ".." component, is or is below "TRAILER!!!" (which would end the archive),
// or is longer than MAX_PATH_BYTES or has a component longer than MAX_COMPONENT_BYTES.
Result<std::string> normalize_path(std::string_view path);

// The entries of an initramfs, kept sorted, with their contents either in memory or named by a
// host file that write() streams. Holds metadata and small in-memory files only.
class Archive {
public:
    // Each add normalises `path` (normalize_path), adds missing parent directories, and fails
    // with Errc::Config on a path already added, or one below a path that is not a directory.
    // Adding a directory that an earlier add implied is not a duplicate.
    Result<void> add_directory(std::string_view path);
    Result<void> add_file(std::string_view path, Bytes contents, Exec exec);
    // `target` is stored verbatim (it may be absolute: it is resolved in the guest); Errc::Config
    // when it is empty, contains NUL or is longer than MAX_PATH_BYTES.
    Result<void> add_symlink(std::string_view path, std::string_view target);

    // A regular file whose bytes write() reads from `host_path` (symlinks followed). It is
    // stat'ed now; write() fails unless it opens the same inode (st_dev, st_ino) with the same
    // size. `exec`: nullopt takes 0755 when any execute bit is set on the host file, else 0644.
    // Errc::Io when it cannot be stat'ed, Errc::Config when it is not a regular file or too big.
    Result<void> add_host_file(std::string_view path, const std::string& host_path, std::optional<Exec> exec);

    // As add_host_file, for a file already lstat'ed by a tree walk (tree.h).
    struct HostFile {
        std::string path;
        uint64_t dev{0};
        uint64_t ino{0};
    };
    Result<void> add_host_file(std::string_view path, HostFile host, uint64_t size, Exec exec);

    // Entries so far, implied parents included (the trailer is not counted).
    size_t size() const { return m_entries.size(); }

    // What is at a normalised `path` (normalize_path), if anything: for the builder's checks.
    struct Found {
        EntryType type{EntryType::Directory};
        uint32_t mode{0};
        std::string target;  // a symlink's target
    };
    std::optional<Found> find(std::string_view path) const;
    // The first `max` bytes of the file at a normalised `path` (fewer when it is shorter), from
    // memory or its host file. Errc::Config when there is no file there, Errc::Io when the host
    // file cannot be read.
    Result<Bytes> read_head(std::string_view path, size_t max) const;
    // Bytes of the uncompressed archive write() will produce, trailer included.
    uint64_t archive_bytes() const;

    // Writes the whole archive to `out` and finishes it (Sink::finish). `mtime` goes into every
    // c_mtime. Errc::Io when a host file cannot be read or changed since it was added.
    Result<void> write(Sink& out, uint32_t mtime) const;

private:
    struct Entry {
        EntryType type{EntryType::Directory};
        uint32_t mode{MODE_DIRECTORY};
        uint64_t size{0};
        Bytes data;  // in-memory file contents, or the symlink target
        std::optional<HostFile> host;
        bool implied{false};  // added as the parent of another entry
    };

    Result<void> insert(std::string_view path, Entry entry);

    std::map<std::string, Entry> m_entries;  // std::string orders bytewise (as unsigned char)
    uint64_t m_data_bytes{0};
};

// One member of a newc archive as read, the trailer excluded.
struct NewcEntry {
    std::string path;
    uint32_t ino{0};
    uint32_t mode{0};  // st_mode: type bits and permissions
    uint32_t uid{0};
    uint32_t gid{0};
    uint32_t nlink{0};
    uint32_t mtime{0};
    uint32_t dev_major{0};
    uint32_t dev_minor{0};
    uint32_t rdev_major{0};
    uint32_t rdev_minor{0};
    ByteView data;  // file contents or symlink target, borrowed from the input
};

// Parses a whole uncompressed newc archive through the bounds-checked Reader. Errc::Format,
// naming the member's offset and field, on: a magic other than "070701" ("070702" is
// Errc::Unsupported), a field that is not 8 hexadecimal digits, a non-zero c_chksum, a name
// that is empty, unterminated, has an inner NUL, longer than MAX_PATH_BYTES or seen before, a
// file type other than directory, regular file, symlink, character or block device, FIFO or
// socket, data on a member that may not have any, a symlink without a target, non-zero padding,
// sizes past the end of the input, a missing "TRAILER!!!", and anything after the trailer but
// zero bytes. The entries borrow `archive`.
Result<std::vector<NewcEntry>> read_newc(ByteView archive);

}  // namespace cvm::initramfs
