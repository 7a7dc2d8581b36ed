// A temporary directory for the initramfs tests, removed with everything in it.
#pragma once

#include <cstdlib>
#include <fcntl.h>
#include <ftw.h>
#include <string>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <doctest.h>

namespace cvm::test {

class TempDir {
public:
    TempDir()
    {
        char name[] = "/tmp/cvm-initramfs-XXXXXX";
        REQUIRE(mkdtemp(name));
        m_path = name;
    }
    ~TempDir()
    {
        nftw(
            m_path.c_str(), [](const char* p, const struct stat*, int, FTW*) { return remove(p); }, 16,
            FTW_DEPTH | FTW_PHYS);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return m_path; }
    std::string at(const std::string& rel) const { return m_path + "/" + rel; }

    // Writes `rel` with `content`, then sets its mode and its mtime (seconds).
    std::string write(const std::string& rel, const std::string& content, mode_t mode = 0644, time_t mtime = 1) const
    {
        std::string p = at(rel);
        int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
        close(fd);
        REQUIRE(chmod(p.c_str(), mode) == 0);
        touch(rel, mtime);
        return p;
    }
    std::string mkdir(const std::string& rel, mode_t mode = 0755) const
    {
        REQUIRE(::mkdir(at(rel).c_str(), mode) == 0);
        return at(rel);
    }
    void symlink(const std::string& target, const std::string& rel) const
    {
        REQUIRE(::symlink(target.c_str(), at(rel).c_str()) == 0);
    }
    void touch(const std::string& rel, time_t mtime) const
    {
        struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
        REQUIRE(utimensat(AT_FDCWD, at(rel).c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
    }

private:
    std::string m_path;
};

}  // namespace cvm::test
