#include <doctest.h>

#include "base/reader.h"

using namespace cvm;

TEST_CASE("Reader reads little- and big-endian integers in order")
{
    const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    Reader r(data);
    CHECK(r.u8("a").value() == 0x01);
    CHECK(r.u16le("b").value() == 0x0302);
    CHECK(r.u32le("c").value() == 0x07060504u);
    CHECK(r.u64le("d").value() == 0x0f0e0d0c0b0a0908ull);
    CHECK(r.at_end());
    CHECK(r.finish().ok());

    Reader be(data);
    CHECK(be.u16be("x").value() == 0x0102);
    CHECK(be.u32be("y").value() == 0x03040506u);
}

TEST_CASE("Reader names the field, offset and sizes when input is truncated")
{
    const uint8_t data[] = {1, 2, 3};
    Reader r(data, "thing");
    REQUIRE(r.u16le("HEAD").ok());
    auto e = r.u32le("BODY");
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code() == Errc::Format);
    CHECK(e.error().message() == "thing: BODY at offset 0x2 is truncated: need 4 bytes, 1 left");
    // A failed read consumes nothing.
    CHECK(r.remaining() == 1);
}

TEST_CASE("Reader::zeros reports the first non-zero byte of a reserved range")
{
    const uint8_t data[] = {0, 0, 0, 7, 0};
    Reader r(data, "blob");
    auto e = r.zeros(5, "RESERVED");
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().message() == "blob: reserved field RESERVED (0x0..0x5) must be zero, found 0x07 at offset 0x3");

    const uint8_t zero[4] = {};
    Reader z(zero);
    CHECK(z.zeros(4, "R").ok());
}

TEST_CASE("Reader::finish rejects trailing bytes")
{
    const uint8_t data[] = {1, 2};
    Reader r(data, "x");
    REQUIRE(r.u8("a").ok());
    auto e = r.finish();
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().message() == "x: 1 trailing bytes after offset 0x1, expected none");
}

TEST_CASE("Reader::bytes and array return views of the input")
{
    const uint8_t data[] = {9, 8, 7, 6};
    Reader r(data);
    auto v = r.bytes(2, "v").value();
    CHECK(v.data() == data);
    auto a = r.array<2>("a").value();
    CHECK(a[0] == 7);
    CHECK(a[1] == 6);
    CHECK_FALSE(r.bytes(1, "more").ok());
    CHECK(r.skip(0, "nothing").ok());
}
