// Shared by the LUKS2 tests: temporary images, the cryptsetup reference peer, and a helper that
// edits a header's JSON and recomputes both checksums (independently of the product's writer).
#pragma once

#include <doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "base/bytes.h"
#include "crypto/digest.h"
#include "storage/block_device.h"
#include "storage_fixture.h"

namespace cvm::test {

// cryptsetup, or "" when it is missing.
inline std::string cryptsetup_path()
{
    return find_tool("cryptsetup");
}

// Runs a shell command; returns its exit status and fills `out` with its stdout.
inline int run(const std::string& command, std::string* out = nullptr)
{
    FILE* p = popen((command + " 2>/dev/null").c_str(), "r");
    REQUIRE(p);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        if (out)
            out->append(buf, n);
    }
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The volume key as `cryptsetup luksDump --dump-volume-key` prints it.
inline Bytes dump_volume_key(const std::string& cryptsetup, const std::string& image, const std::string& key_file)
{
    std::string out;
    REQUIRE(run(cryptsetup + " luksDump --dump-volume-key -q --key-file " + key_file + " " + image, &out) == 0);
    size_t at = out.find("MK dump:");
    REQUIRE(at != std::string::npos);
    std::string hex;
    for (char c : out.substr(at + 8))
        if (isxdigit(static_cast<unsigned char>(c)))
            hex += c;
    auto key = from_hex(hex);
    REQUIRE(key.has_value());
    return *key;
}

// Rewrites both header copies of `image`: `edit` gets each copy's 16 KiB (binary header and JSON
// area) to change, then the SHA-256 checksum (LUKS2 spec §2: over the whole hdr_size bytes with
// the csum field zeroed) is recomputed so only the change itself is judged.
inline void recompute_checksum(std::span<uint8_t> copy, size_t hdr_size = 16384)
{
    constexpr size_t CSUM = 448;
    memset(copy.data() + CSUM, 0, 64);
    crypto::Sha256Digest sum = crypto::Sha256::of(copy.first(hdr_size));
    memcpy(copy.data() + CSUM, sum.data(), sum.size());
}

inline void edit_headers(const TempImage& image, const std::function<void(int copy, Bytes& bytes)>& edit,
                         bool rechecksum = true)
{
    auto dev = image.open();
    for (int copy = 0; copy < 2; ++copy) {
        Bytes bytes(16384);
        REQUIRE(dev.read_at(copy * 16384u, bytes).ok());
        edit(copy, bytes);
        if (rechecksum)
            recompute_checksum(bytes);
        REQUIRE(dev.write_at(copy * 16384u, bytes).ok());
    }
}

// Replaces `from` (which must occur) by `to` in a copy's JSON text, keeping NUL padding.
inline void replace_json(Bytes& copy, const std::string& from, const std::string& to)
{
    std::string json(reinterpret_cast<const char*>(copy.data()) + 4096);
    size_t at = json.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, from);
    json.replace(at, from.size(), to);
    REQUIRE(json.size() < 12288);
    memset(copy.data() + 4096, 0, 12288);
    memcpy(copy.data() + 4096, json.data(), json.size());
}

inline bool contains(std::string_view haystack, std::string_view needle)
{
    return haystack.find(needle) != std::string_view::npos;
}

}  // namespace cvm::test
