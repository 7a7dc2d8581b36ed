#include "initramfs/tree.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "base/file.h"

namespace cvm::initramfs {

namespace {

struct Pending {
    std::string host;     // path on the host
    std::string archive;  // path in the archive
    dev_t dev;
    ino_t ino;
};

const char* type_name(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    default: return "not a file, directory or symlink";
    }
}

// Reads the names in one directory, after checking that `dir.host` is still the inode its
// parent's listing showed (O_NOFOLLOW covers the last component, the inode check the others).
Result<std::vector<std::string>> list(const Pending& dir)
{
    UniqueFd fd(open(dir.host.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno(Errc::Io, errno, "cannot open directory %s: %s", dir.host.c_str(), strerror(errno));
    struct stat st {};
    if (fstat(fd.get(), &st) != 0 || st.st_dev != dir.dev || st.st_ino != dir.ino)
        return Error::make(Errc::Io, "%s changed while the initramfs was being built", dir.host.c_str());
    DIR* d = fdopendir(fd.get());
    if (!d)
        return Error::from_errno(Errc::Io, errno, "cannot read directory %s: %s", dir.host.c_str(), strerror(errno));
    fd.release();  // closedir() closes it
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = readdir(d)) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            names.emplace_back(e->d_name);
        errno = 0;
    }
    int saved = errno;
    closedir(d);
    if (saved != 0)
        return Error::from_errno(Errc::Io, saved, "cannot read directory %s: %s", dir.host.c_str(), strerror(saved));
    return names;
}

Result<void> add_symlink_at(Archive& archive, const std::string& host, const std::string& path)
{
    std::string target(MAX_PATH_BYTES + 1, '\0');
    ssize_t n = readlink(host.c_str(), target.data(), target.size());
    if (n < 0)
        return Error::from_errno(Errc::Io, errno, "cannot read symlink %s: %s", host.c_str(), strerror(errno));
    if (static_cast<size_t>(n) > MAX_PATH_BYTES)
        return Error::make(Errc::Config, "symlink %s has a target longer than %zu bytes", host.c_str(), MAX_PATH_BYTES);
    target.resize(static_cast<size_t>(n));
    return archive.add_symlink(path, target);
}

}  // namespace

Result<void> add_tree(Archive& archive, const std::string& host_dir, std::string_view prefix)
{
    // The caller named the root, so a symlink there is followed, once: below it, nothing is.
    char resolved[PATH_MAX];
    if (!realpath(host_dir.c_str(), resolved))
        return Error::from_errno(Errc::Io, errno, "cannot resolve %s: %s", host_dir.c_str(), strerror(errno));
    struct stat st {};
    if (lstat(resolved, &st) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot stat %s: %s", resolved, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return Error::make(Errc::Config, "%s is not a directory", host_dir.c_str());
    std::string root = TRY(normalize_path(prefix));
    TRY(archive.add_directory(root));
    // Breadth-first with an explicit queue: no recursion depth and one open directory at a time.
    // The Archive sorts, so the order of the walk does not matter.
    std::vector<Pending> queue{{resolved, root, st.st_dev, st.st_ino}};
    for (size_t next = 0; next < queue.size(); ++next) {
        Pending dir = queue[next];
        std::vector<std::string> names = TRY(list(dir));
        for (const std::string& name : names) {
            std::string host = dir.host + "/" + name;
            std::string path = dir.archive + "/" + name;
            if (lstat(host.c_str(), &st) != 0)
                return Error::from_errno(Errc::Io, errno, "cannot stat %s: %s", host.c_str(), strerror(errno));
            if (S_ISDIR(st.st_mode)) {
                TRY(archive.add_directory(path));
                queue.push_back({host, path, st.st_dev, st.st_ino});
            } else if (S_ISREG(st.st_mode)) {
                Exec exec = (st.st_mode & 0111) != 0 ? Exec::Yes : Exec::No;
                TRY(archive.add_host_file(path, Archive::HostFile{host, st.st_dev, st.st_ino},
                                          static_cast<uint64_t>(st.st_size), exec));
            } else if (S_ISLNK(st.st_mode)) {
                TRY(add_symlink_at(archive, host, path));
            } else {
                return Error::make(Errc::Config, "%s is %s; the initramfs holds directories, files and symlinks only",
                                   host.c_str(), type_name(st.st_mode));
            }
        }
    }
    return {};
}

}  // namespace cvm::initramfs
