// The real ConfigfsFiles of report_provider_configfs.h: plain syscalls, each failure naming the
// path and carrying errno.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "providers/report_provider_configfs.h"

namespace cvm::agent {

namespace {

Error io_error(const char* what, const std::string& path)
{
    int saved = errno;
    return Error::from_errno(Errc::Io, saved, "cannot %s %s: %s", what, path.c_str(), strerror(saved));
}

class SystemConfigfsFiles final : public ConfigfsFiles {
public:
    Result<void> make_dir(const std::string& path) override
    {
        if (mkdir(path.c_str(), 0700) != 0)
            return io_error("create directory", path);
        return {};
    }

    Result<void> remove_dir(const std::string& path) override
    {
        if (rmdir(path.c_str()) != 0)
            return io_error("remove directory", path);
        return {};
    }

    bool exists(const std::string& path) override { return access(path.c_str(), F_OK) == 0; }

    Result<void> write(const std::string& path, ByteView data) override
    {
        UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd.valid())
            return io_error("open", path);
        for (size_t done = 0; done < data.size();) {
            ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return io_error("write", path);
            if (n == 0)
                return Error::make(Errc::Io, "cannot write %s: no progress after %zu bytes", path.c_str(), done);
            done += static_cast<size_t>(n);
        }
        // A binary attribute's store runs at release: its error, if any, surfaces here.
        if (close(fd.release()) != 0)
            return io_error("write (at close)", path);
        return {};
    }

    Result<Bytes> read(const std::string& path, size_t max_size) override
    {
        UniqueFd fd = TRY(open_for_reading(path));
        Bytes out(max_size + 1);  // one spare byte tells "exactly max_size" from "more"
        size_t used = 0;
        while (used < out.size()) {
            size_t n = TRY(read_some(fd.get(), std::span<uint8_t>(out).subspan(used), path));
            if (n == 0)
                break;
            used += n;
        }
        if (used > max_size)
            return Error::make(Errc::Format, "%s holds more than the %zu bytes allowed", path.c_str(), max_size);
        out.resize(used);
        return out;
    }
};

}  // namespace

ConfigfsFiles& system_configfs_files()
{
    static SystemConfigfsFiles files;
    return files;
}

}  // namespace cvm::agent
