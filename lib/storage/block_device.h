// BlockDevice: positioned reads and writes on a disk, a partition, a dm device or an image file,
// and the one interface the storage layer formats and opens volumes through. The host's disks are
// untrusted: every read is of a bounded range the caller chose, and nothing here interprets bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/bytes.h"
#include "base/file.h"
#include "base/result.h"

namespace cvm::storage {

class BlockDevice {
public:
    virtual ~BlockDevice() = default;
    // The size in bytes, fixed for the device's lifetime.
    virtual uint64_t size() const = 0;
    // Exactly out.size() bytes at `offset`; Errc::Io naming the device and the range when the range
    // runs past size() or the read fails or comes up short.
    virtual Result<void> read_at(uint64_t offset, std::span<uint8_t> out) = 0;
    // Exactly data.size() bytes at `offset`; Errc::Io as for read_at.
    virtual Result<void> write_at(uint64_t offset, ByteView data) = 0;
    // Makes every completed write durable (fdatasync); Errc::Io on failure.
    virtual Result<void> flush() = 0;
    // For messages: the path or another short name.
    virtual const std::string& name() const = 0;
};

// A block device node or a regular file, opened O_RDWR (or O_RDONLY) | O_CLOEXEC. The size is
// BLKGETSIZE64 for block devices and st_size for files.
class FileBlockDevice final : public BlockDevice {
public:
    enum class Mode : uint8_t { ReadOnly, ReadWrite };
    static Result<FileBlockDevice> open(const std::string& path, Mode mode);

    uint64_t size() const override { return m_size; }
    Result<void> read_at(uint64_t offset, std::span<uint8_t> out) override;
    Result<void> write_at(uint64_t offset, ByteView data) override;
    Result<void> flush() override;
    const std::string& name() const override { return m_path; }
    int fd() const { return m_fd.get(); }

private:
    FileBlockDevice(UniqueFd fd, std::string path, uint64_t size)
            : m_fd(std::move(fd)), m_path(std::move(path)), m_size(size)
    {
    }
    UniqueFd m_fd;
    std::string m_path;
    uint64_t m_size;
};

// Errc::Io naming `device` unless [offset, offset + length) lies inside it.
Result<void> check_range(const BlockDevice& device, uint64_t offset, uint64_t length);

}  // namespace cvm::storage
