#include <doctest.h>

#include "base/bytes.h"

using namespace cvm;

TEST_CASE("hex round trip")
{
    const uint8_t data[] = {0x00, 0x7f, 0x80, 0xff};
    CHECK(to_hex(data) == "007f80ff");
    auto back = from_hex("007F80ff");
    REQUIRE(back);
    CHECK(*back == Bytes(data, data + 4));
    CHECK(to_hex({}) == "");
}

TEST_CASE("from_hex rejects odd length and non-hex characters")
{
    CHECK_FALSE(from_hex("abc"));
    CHECK_FALSE(from_hex("zz"));
    CHECK_FALSE(from_hex("0x00"));
    CHECK_FALSE(from_hex("00 "));
    CHECK(from_hex("")->empty());
}

TEST_CASE("all_zero and byte-order writers")
{
    const uint8_t zero[3] = {};
    const uint8_t one[3] = {0, 0, 1};
    CHECK(all_zero(zero));
    CHECK_FALSE(all_zero(one));
    uint8_t buf[8];
    put_le32(buf, 0x11223344);
    CHECK(buf[0] == 0x44);
    CHECK(get_le32(buf) == 0x11223344u);
    put_le64(buf, 0x0102030405060708ull);
    CHECK(buf[7] == 0x01);
    put_be16(buf, 0xabcd);
    CHECK(buf[0] == 0xab);
}

TEST_CASE("equals_ignore_case is ASCII-only and length-exact")
{
    CHECK(equals_ignore_case("Content-Length", "content-length"));
    CHECK(equals_ignore_case("", ""));
    CHECK_FALSE(equals_ignore_case("Host", "Hos"));
    CHECK_FALSE(equals_ignore_case("a", "b"));
    CHECK_FALSE(equals_ignore_case("\xc4", "\xe4"));  // Latin-1 case pairs are not folded
}
