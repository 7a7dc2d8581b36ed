// What the storage tests share: image files in /tmp, and the reference peers (cryptsetup,
// veritysetup, e2fsprogs), found in the sbin directories a test runner's PATH may lack and run
// through a shell.
#pragma once

#include <doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/digest.h"
#include "storage/block_device.h"

namespace cvm::test {

// An image file of `size` bytes in /tmp, removed on destruction.
class TempImage {
public:
    explicit TempImage(uint64_t size)
    {
        char tmpl[] = "/tmp/cvm-storage-XXXXXX";
        int fd = mkstemp(tmpl);
        REQUIRE(fd >= 0);
        REQUIRE(ftruncate(fd, static_cast<off_t>(size)) == 0);
        close(fd);
        m_path = tmpl;
    }
    ~TempImage() { unlink(m_path.c_str()); }
    TempImage(const TempImage&) = delete;
    TempImage& operator=(const TempImage&) = delete;
    const std::string& path() const { return m_path; }
    storage::FileBlockDevice open() const
    {
        auto dev = storage::FileBlockDevice::open(m_path, storage::FileBlockDevice::Mode::ReadWrite);
        REQUIRE(dev.ok());
        return dev.release_value();
    }
    crypto::Sha256Digest digest() const
    {
        auto d = crypto::sha256_file(m_path);
        REQUIRE(d.ok());
        return d.value();
    }
    void write_file(ByteView data) const
    {
        FILE* f = fopen(m_path.c_str(), "wb");
        REQUIRE(f);
        REQUIRE(fwrite(data.data(), 1, data.size(), f) == data.size());
        fclose(f);
    }

private:
    std::string m_path;
};

// A failed Result's message, "" for a successful one: doctest evaluates a REQUIRE_MESSAGE's message
// even when the check passes (always, under -s), so it must not call error() on success.
template <typename T>
std::string why(const Result<T>& r)
{
    return r.ok() ? std::string() : std::string(r.error().message());
}

// The first executable `name` in /usr/sbin, /sbin, /usr/bin or /bin; "" when there is none.
inline std::string find_tool(const char* name)
{
    for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
        std::string path = std::string(dir) + name;
        if (access(path.c_str(), X_OK) == 0)
            return path;
    }
    return {};
}

struct Run {
    int status;          // the exit status, -1 when the command did not exit
    std::string output;  // stdout and stderr
};

inline Run run_tool(const std::string& command)
{
    Run r{-1, {}};
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        r.output.append(buf, n);
    int status = pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

// e2fsck -f (check even a clean filesystem) -n (read-only, answer no): nothing to fix.
inline void check_fsck_clean(const std::string& e2fsck, const std::string& image)
{
    Run r = run_tool(e2fsck + " -fn " + image);
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(r.output.find("Fix?") == std::string::npos);
}

}  // namespace cvm::test

// Declares `var` as the path of `name`, or skips the test case with a message when it is missing.
#define REQUIRE_TOOL(var, name)                                                                                        \
    std::string var = ::cvm::test::find_tool(name);                                                                    \
    if (var.empty()) {                                                                                                 \
        MESSAGE("skipped: " name " not found in /usr/sbin, /sbin, /usr/bin or /bin");                                  \
        return;                                                                                                        \
    }
