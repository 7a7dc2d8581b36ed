#include "base/file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cvm {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept
{
    if (this != &other)
        reset(other.release());
    return *this;
}

int UniqueFd::release()
{
    int fd = m_fd;
    m_fd = -1;
    return fd;
}

void UniqueFd::reset(int fd)
{
    if (m_fd >= 0)
        close(m_fd);
    m_fd = fd;
}

Result<UniqueFd> open_for_reading(const std::string& path)
{
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno(Errc::Io, errno, "cannot open %s: %s", path.c_str(), strerror(errno));
    return fd;
}

Result<size_t> read_some(int fd, std::span<uint8_t> buf, const std::string& path)
{
    for (;;) {
        ssize_t n = read(fd, buf.data(), buf.size());
        if (n >= 0)
            return static_cast<size_t>(n);
        if (errno != EINTR)
            return Error::from_errno(Errc::Io, errno, "cannot read %s: %s", path.c_str(), strerror(errno));
    }
}

Result<Bytes> read_file(const std::string& path, size_t max_size)
{
    UniqueFd fd = TRY(open_for_reading(path));
    // A regular file's size sizes the buffer, so it is read straight into one allocation. It is
    // only a hint: sysfs reports 4096 for every attribute and procfs 0, so the bound is applied
    // to the bytes actually read, and no more than max_size + 1 are ever held.
    struct stat st {};
    size_t expected = 0;
    if (fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode))
        expected = std::min(static_cast<size_t>(st.st_size), max_size);
    Bytes out(expected + 1);  // one spare byte notices a file that grew since fstat
    size_t used = 0;
    for (;;) {
        if (used == out.size()) {
            if (out.size() > max_size)
                return Error::make(Errc::Format, "%s is larger than the %zu bytes allowed", path.c_str(), max_size);
            out.resize(std::min(max_size + 1, std::max<size_t>(out.size() * 2, 16384)));
        }
        size_t n = TRY(read_some(fd.get(), std::span<uint8_t>(out).subspan(used), path));
        if (n == 0)
            break;
        used += n;
    }
    if (used > max_size)
        return Error::make(Errc::Format, "%s is larger than the %zu bytes allowed", path.c_str(), max_size);
    out.resize(used);
    return out;
}

Result<SecretBytes> read_secret_file(const std::string& path, size_t max_size)
{
    UniqueFd fd = TRY(open_for_reading(path));
    SecretBytes buffer(max_size + 1);  // key files are small: one buffer of the bound, never regrown
    size_t used = 0;
    while (used < buffer.size()) {
        size_t n = TRY(read_some(fd.get(), buffer.expose().subspan(used), path));
        if (n == 0)
            break;
        used += n;
    }
    if (used > max_size)
        return Error::make(Errc::Format, "%s is larger than the %zu bytes allowed", path.c_str(), max_size);
    return SecretBytes::copy_of(buffer.expose().first(used));
}

Result<std::string> read_text_file(const std::string& path, size_t max_size)
{
    Bytes data = TRY(read_file(path, max_size));
    return std::string(data.begin(), data.end());
}

Result<void> write_file_atomic(const std::string& path, ByteView data, unsigned mode)
{
    std::string tmp = path + ".tmp.XXXXXX";
    UniqueFd fd(mkstemp(tmp.data()));
    if (!fd.valid())
        return Error::from_errno(Errc::Io, errno, "cannot create a temporary file for %s: %s", path.c_str(),
                                 strerror(errno));
    auto fail = [&](const char* what) {
        int saved = errno;
        unlink(tmp.c_str());
        return Error::from_errno(Errc::Io, saved, "cannot %s %s: %s", what, tmp.c_str(), strerror(saved));
    };
    if (fchmod(fd.get(), mode) != 0)
        return fail("chmod");
    for (size_t done = 0; done < data.size();) {
        ssize_t n = write(fd.get(), data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail("write");
        done += static_cast<size_t>(n);
    }
    if (fsync(fd.get()) != 0)
        return fail("fsync");
    fd.reset();
    if (rename(tmp.c_str(), path.c_str()) != 0)
        return fail("rename");
    // The rename is durable only once the directory entry is.
    std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
    UniqueFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd.valid() || fsync(dir_fd.get()) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot fsync directory %s: %s", dir.c_str(), strerror(errno));
    return {};
}

}  // namespace cvm
