#include "storage/block_device.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstring>

namespace cvm::storage {

Result<void> check_range(const BlockDevice& device, uint64_t offset, uint64_t length)
{
    if (offset > device.size() || length > device.size() - offset)
        return Error::make(Errc::Io, "%s: range %" PRIu64 "+%" PRIu64 " runs past its end (%" PRIu64 " bytes)",
                           device.name().c_str(), offset, length, device.size());
    return {};
}

Result<FileBlockDevice> FileBlockDevice::open(const std::string& path, Mode mode)
{
    int flags = (mode == Mode::ReadWrite ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    UniqueFd fd{::open(path.c_str(), flags)};
    if (!fd.valid())
        return Error::from_errno(Errc::Io, errno, "failed to open %s: %s", path.c_str(), strerror(errno));
    struct stat st {};
    if (fstat(fd.get(), &st) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to stat %s: %s", path.c_str(), strerror(errno));
    uint64_t size = 0;
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd.get(), BLKGETSIZE64, &size) != 0)
            return Error::from_errno(Errc::Io, errno, "failed to get the size of %s: %s", path.c_str(),
                                     strerror(errno));
    } else if (S_ISREG(st.st_mode)) {
        size = static_cast<uint64_t>(st.st_size);
    } else {
        return Error::make(Errc::Io, "%s is neither a block device nor a regular file", path.c_str());
    }
    return FileBlockDevice{std::move(fd), path, size};
}

Result<void> FileBlockDevice::read_at(uint64_t offset, std::span<uint8_t> out)
{
    TRY(check_range(*this, offset, out.size()));
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = pread(m_fd.get(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return Error::from_errno(Errc::Io, n < 0 ? errno : 0, "failed to read %s at %" PRIu64 ": %s",
                                     m_path.c_str(), offset + done, n < 0 ? strerror(errno) : "short read");
        done += static_cast<size_t>(n);
    }
    return {};
}

Result<void> FileBlockDevice::write_at(uint64_t offset, ByteView data)
{
    TRY(check_range(*this, offset, data.size()));
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = pwrite(m_fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return Error::from_errno(Errc::Io, n < 0 ? errno : 0, "failed to write %s at %" PRIu64 ": %s",
                                     m_path.c_str(), offset + done, n < 0 ? strerror(errno) : "short write");
        done += static_cast<size_t>(n);
    }
    return {};
}

Result<void> FileBlockDevice::flush()
{
    if (fdatasync(m_fd.get()) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to flush %s: %s", m_path.c_str(), strerror(errno));
    return {};
}

}  // namespace cvm::storage
