// The strict newc reader against hostile and malformed archives.
#include <doctest.h>

#include <string>

#include "initramfs/cpio.h"

using namespace cvm;
using namespace cvm::initramfs;

namespace {

// A two-member archive from the writer: "d" (directory) and "d/f" ("data", 4 bytes).
std::string sample()
{
    Archive a;
    REQUIRE(a.add_file("d/f", Bytes{'d', 'a', 't', 'a'}, Exec::No).ok());
    BufferSink sink;
    REQUIRE(a.write(sink, 0).ok());
    return std::string(sink.bytes().begin(), sink.bytes().end());
}

// Offsets in sample(): member "d" at 0 (110 + "d\0": 112 bytes), "d/f" at 112 (110 + "d/f\0" +
// 2 bytes of padding, then its data), the trailer after the data.
constexpr size_t SECOND = 112;
constexpr size_t SECOND_DATA = SECOND + 116;
constexpr size_t TRAILER = SECOND_DATA + 4;

// Field i (0 = c_ino ... 12 = c_chksum) of the member at `member`.
size_t field(size_t member, size_t i)
{
    return member + 6 + 8 * i;
}

Result<std::vector<NewcEntry>> parse(const std::string& s)
{
    return read_newc(as_bytes(s));
}

void check_format(const std::string& s, std::string_view fragment)
{
    auto r = parse(s);
    REQUIRE_MESSAGE(!r.ok(), "accepted, expected an error with: ", fragment);
    CHECK(r.error().code() == Errc::Format);
    CHECK_MESSAGE(r.error().message().find(fragment) != std::string_view::npos, r.error().message());
}

std::string with(std::string s, size_t at, std::string_view replacement)
{
    s.replace(at, replacement.size(), replacement);
    return s;
}

}  // namespace

TEST_CASE("the sample parses, trailing zero padding too")
{
    std::string s = sample();
    REQUIRE(s.size() == TRAILER + 124);
    REQUIRE(s.substr(SECOND + 110, 4) == std::string("d/f\0", 4));
    auto r = parse(s);
    REQUIRE(r.ok());
    REQUIRE(r->size() == 2);
    CHECK(r.value()[1].path == "d/f");
    CHECK(std::string(r.value()[1].data.begin(), r.value()[1].data.end()) == "data");
    // GNU cpio pads to 512-byte blocks; the kernel skips zeros between archives.
    CHECK(parse(s + std::string(512 - s.size(), '\0')).ok());
    // Lower-case hexadecimal is valid too (the format document's own example).
    CHECK(parse(with(s, field(0, 1), "000041ed")).ok());
}

TEST_CASE("every truncation fails")
{
    std::string s = sample();
    for (size_t n = 0; n < s.size(); ++n) {
        CAPTURE(n);
        CHECK_FALSE(parse(s.substr(0, n)).ok());
    }
    check_format("", "without a \"TRAILER!!!\"");
    check_format(s.substr(0, TRAILER), "without a \"TRAILER!!!\"");
}

TEST_CASE("bad magic, and the crc variant")
{
    std::string s = sample();
    check_format(with(s, 0, "070707"), "c_magic");
    check_format(with(s, SECOND, "07070X"), "c_magic");
    check_format(with(s, TRAILER, "170701"), "c_magic");
    auto crc = parse(with(s, 0, "070702"));
    REQUIRE_FALSE(crc.ok());
    CHECK(crc.error().code() == Errc::Unsupported);
}

TEST_CASE("every field must be 8 hexadecimal digits")
{
    std::string s = sample();
    for (size_t i = 0; i < 13; ++i) {
        CAPTURE(i);
        check_format(with(s, field(SECOND, i) + 3, "g"), "8 hexadecimal digits");
        check_format(with(s, field(SECOND, i), " "), "8 hexadecimal digits");
        check_format(with(s, field(SECOND, i) + 7, "x"), "8 hexadecimal digits");
    }
}

TEST_CASE("sizes past the end are refused before anything is taken")
{
    std::string s = sample();
    check_format(with(s, field(SECOND, 6), "FFFFFFFF"), "truncated");
    check_format(with(s, field(SECOND, 6), "00000100"), "truncated");
    check_format(with(s, field(SECOND, 11), "FFFFFFFF"), "c_namesize");
    check_format(with(s, field(SECOND, 11), "00001001"), "c_namesize");
    check_format(with(s, field(SECOND, 11), "00000000"), "c_namesize");
    check_format(with(s, field(SECOND, 11), "00000001"), "c_namesize");
}

TEST_CASE("names, padding, types and sizes are checked")
{
    std::string s = sample();
    check_format(with(s, field(SECOND, 11), "00000003"), "NUL-terminated");                // "d/f" without its NUL
    check_format(with(s, SECOND + 110 + 1, std::string_view("\0", 1)), "NUL-terminated");  // "d\0f\0"
    check_format(with(s, SECOND + 110 + 4, "x"), "name padding");
    check_format(with(s, field(0, 12), "00000001"), "c_chksum");
    check_format(with(s, field(0, 1), "0000F1ED"), "not a known file type");
    check_format(with(s, field(0, 1), "000F41ED"), "not a known file type");                 // bits past st_mode
    check_format(with(s, field(SECOND, 1), "000041ED"), "must be zero for this file type");  // a directory with data
    check_format(with(s, field(SECOND, 6), "00000003"), "data padding");  // "dat", then 'a' as padding
    check_format(with(s, field(TRAILER, 6), "00000004"), "must be zero");
    // Device nodes, FIFOs and sockets are valid newc (the kernel creates them), without data.
    CHECK(parse(with(s, field(0, 1), "000021B6")).ok());
}

TEST_CASE("a name may appear only once")
{
    Archive a;
    REQUIRE(a.add_file("a", Bytes{'1'}, Exec::No).ok());
    REQUIRE(a.add_file("b", Bytes{'2'}, Exec::No).ok());
    BufferSink sink;
    REQUIRE(a.write(sink, 0).ok());
    std::string s(sink.bytes().begin(), sink.bytes().end());
    REQUIRE(parse(s).ok());
    // Member "a": 110 + "a\0" = 112, then 1 data byte padded to 4; "b"'s name at 116 + 110.
    check_format(with(s, 116 + 110, "a"), "appears twice");
}

TEST_CASE("a symlink needs a target")
{
    Archive a;
    REQUIRE(a.add_symlink("l", "t").ok());
    BufferSink sink;
    REQUIRE(a.write(sink, 0).ok());
    std::string s(sink.bytes().begin(), sink.bytes().end());
    REQUIRE(parse(s).ok());
    // c_filesize 0 and the target byte + padding removed.
    std::string empty = with(s, field(0, 6), "00000000");
    empty.erase(112, 4);  // "l\0" ends the header at 112; then "t" and its padding
    check_format(empty, "symlink without a target");
}

TEST_CASE("nothing but zeros after the trailer")
{
    std::string s = sample();
    check_format(s + "x", "not zero padding");
    check_format(s + std::string(7, '\0') + "\x01", "not zero padding");
    check_format(s + s, "not zero padding");  // a second archive: the kernel would take it, we do not
}
