// A temporary directory for tests that need files, removed with everything in it.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "base/bytes.h"
#include "base/file.h"

namespace cvm::test {

class TempDir {
public:
    TempDir()
    {
        char tmpl[] = "/tmp/cvm-measure-test.XXXXXX";
        if (mkdtemp(tmpl))
            m_path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ignored;
        if (!m_path.empty())
            std::filesystem::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return m_path; }

    // Writes `data` to a file in the directory and returns its path.
    std::string write(const std::string& name, ByteView data) const
    {
        std::string path = m_path + "/" + name;
        (void)write_file_atomic(path, data);
        return path;
    }

private:
    std::string m_path;
};

// The start of a bzImage: boot_flag 0xAA55 at 0x1FE, "HdrS" at 0x202, protocol 2.15, then
// `size` bytes in all of a deterministic pattern.
inline Bytes fake_bzimage(size_t size, uint16_t version = 0x020F)
{
    Bytes b(size);
    for (size_t i = 0; i < size; ++i)
        b[i] = static_cast<uint8_t>(i * 31 + (i >> 12));
    b[0x1FE] = 0x55;
    b[0x1FF] = 0xAA;
    b[0x202] = 'H';
    b[0x203] = 'd';
    b[0x204] = 'r';
    b[0x205] = 'S';
    b[0x206] = static_cast<uint8_t>(version);
    b[0x207] = static_cast<uint8_t>(version >> 8);
    return b;
}

}  // namespace cvm::test
