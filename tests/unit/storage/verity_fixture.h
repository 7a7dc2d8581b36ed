// Shared by the verity tests: an in-memory BlockDevice, a temporary directory, and running
// veritysetup (the reference peer) when it is installed.
#pragma once

#include <doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "base/file.h"
#include "storage/block_device.h"
#include "storage_fixture.h"

namespace cvm::test {

class MemoryBlockDevice final : public storage::BlockDevice {
public:
    explicit MemoryBlockDevice(Bytes bytes, std::string name = "memory") : m_bytes(std::move(bytes)), m_name(name) {}

    uint64_t size() const override { return m_bytes.size(); }
    Result<void> read_at(uint64_t offset, std::span<uint8_t> out) override
    {
        TRY(storage::check_range(*this, offset, out.size()));
        memcpy(out.data(), m_bytes.data() + offset, out.size());
        return {};
    }
    Result<void> write_at(uint64_t offset, ByteView data) override
    {
        TRY(storage::check_range(*this, offset, data.size()));
        memcpy(m_bytes.data() + offset, data.data(), data.size());
        return {};
    }
    Result<void> flush() override { return {}; }
    const std::string& name() const override { return m_name; }

    Bytes& bytes() { return m_bytes; }

private:
    Bytes m_bytes;
    std::string m_name;
};

// Deterministic filler so that every block differs (a tree of identical blocks hides ordering bugs).
inline Bytes pattern(size_t size, uint32_t seed)
{
    Bytes out(size);
    uint32_t x = seed * 2654435761u + 1;
    for (uint8_t& b : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<uint8_t>(x);
    }
    return out;
}

class VerityTempDir {
public:
    VerityTempDir()
    {
        char tmpl[] = "/tmp/cvm-verity-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        m_path = tmpl;
    }
    ~VerityTempDir() { (void)!system(("rm -rf '" + m_path + "'").c_str()); }
    std::string operator/(const std::string& name) const { return m_path + "/" + name; }

private:
    std::string m_path;
};

inline void write_whole_file(const std::string& path, ByteView data)
{
    FILE* f = fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(fwrite(data.data(), 1, data.size(), f) == data.size());
    fclose(f);
}

inline Bytes read_whole_file(const std::string& path)
{
    auto r = read_file(path, size_t{1} << 30);
    REQUIRE_MESSAGE(r.ok(), why(r));
    return r.release_value();
}

// veritysetup's path, "" when it is missing.
inline std::string veritysetup()
{
    return find_tool("veritysetup");
}

// Runs a shell command with its stdout in `out_path`; its exit status.
inline int run_shell(const std::string& command, const std::string& out_path)
{
    int status = system((command + " >'" + out_path + "' 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace cvm::test
