#include "initramfs/sink.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace cvm::initramfs {

Result<void> BufferSink::write(ByteView data)
{
    m_bytes.insert(m_bytes.end(), data.begin(), data.end());
    return {};
}

FileSink::FileSink(std::string path, std::string tmp, UniqueFd fd)
        : m_path(std::move(path)), m_tmp(std::move(tmp)), m_fd(std::move(fd))
{
}

FileSink::FileSink(FileSink&& other) noexcept
        : m_path(std::move(other.m_path)), m_tmp(std::exchange(other.m_tmp, {})), m_fd(std::move(other.m_fd))
{
}

FileSink::~FileSink()
{
    if (!m_tmp.empty())
        unlink(m_tmp.c_str());
}

Result<FileSink> FileSink::create(const std::string& path, unsigned mode)
{
    std::string tmp = path + ".tmp.XXXXXX";
    UniqueFd fd(mkstemp(tmp.data()));
    if (!fd.valid())
        return Error::from_errno(Errc::Io, errno, "cannot create a temporary file for %s: %s", path.c_str(),
                                 strerror(errno));
    FileSink sink(path, tmp, std::move(fd));
    if (fchmod(sink.m_fd.get(), mode) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot chmod %s: %s", tmp.c_str(), strerror(errno));
    return sink;
}

Result<void> FileSink::write(ByteView data)
{
    for (size_t done = 0; done < data.size();) {
        ssize_t n = ::write(m_fd.get(), data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno(Errc::Io, errno, "cannot write %s: %s", m_tmp.c_str(), strerror(errno));
        done += static_cast<size_t>(n);
    }
    return {};
}

Result<void> FileSink::finish()
{
    if (fsync(m_fd.get()) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot fsync %s: %s", m_tmp.c_str(), strerror(errno));
    m_fd.reset();
    if (rename(m_tmp.c_str(), m_path.c_str()) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot rename %s to %s: %s", m_tmp.c_str(), m_path.c_str(),
                                 strerror(errno));
    m_tmp.clear();
    // The rename survives a power loss only once the directory entry is on disk.
    size_t slash = m_path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : m_path.substr(0, slash);
    UniqueFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd.valid() || fsync(dir_fd.get()) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot fsync directory %s: %s", dir.c_str(), strerror(errno));
    return {};
}

}  // namespace cvm::initramfs
