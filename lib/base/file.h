// File helpers: an owning fd, bounded whole-file reads, and atomic writes.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"

namespace cvm {

// Owns a file descriptor; closes it on destruction. Move-only.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : m_fd(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    ~UniqueFd() { reset(); }

    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    int release();
    void reset(int fd = -1);

private:
    int m_fd{-1};
};

// Opens `path` read-only (O_CLOEXEC); Errc::Io naming the path on failure.
Result<UniqueFd> open_for_reading(const std::string& path);

// One read(2) into `buf`, retried on EINTR: the byte count, 0 at end of file, or Errc::Io naming
// `path` (used only in the message).
Result<size_t> read_some(int fd, std::span<uint8_t> buf, const std::string& path);

// Reads a whole file, refusing (Errc::Format) one with more than `max_size` bytes; at most
// max_size + 1 bytes are ever read or held. A regular file's size is used to allocate once, but
// not trusted (sysfs attributes all claim 4096 bytes, /proc files 0).
Result<Bytes> read_file(const std::string& path, size_t max_size);

// Reads a whole file of key material straight into wiping storage (no intermediate copies), with
// the same bound and errors as read_file().
Result<SecretBytes> read_secret_file(const std::string& path, size_t max_size);

// Reads a whole file as text with the same bound.
Result<std::string> read_text_file(const std::string& path, size_t max_size);

// Writes `data` to `path` through a temporary file in the same directory, fsync and rename, so a
// reader sees either the old or the new contents, then fsyncs the directory so the rename survives
// a power loss. `mode` applies to the new file.
Result<void> write_file_atomic(const std::string& path, ByteView data, unsigned mode = 0644);

}  // namespace cvm
