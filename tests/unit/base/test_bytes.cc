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

TEST_CASE("is_canonical_uuid: 8-4-4-4-12 lower-case hex only")
{
    CHECK(is_canonical_uuid("8f1c6a2e-3d4b-4c5e-9f60-718293a4b5c6"));
    CHECK(is_canonical_uuid("00000000-0000-0000-0000-000000000000"));
    CHECK_FALSE(is_canonical_uuid("8F1C6A2E-3D4B-4C5E-9F60-718293A4B5C6"));  // upper case
    CHECK_FALSE(is_canonical_uuid("8f1c6a2e3d4b4c5e9f60718293a4b5c6"));      // no dashes
    CHECK_FALSE(is_canonical_uuid("8f1c6a2e-3d4b-4c5e-9f60-718293a4b5c"));   // 35 characters
    CHECK_FALSE(is_canonical_uuid("8f1c6a2e-3d4b-4c5e-9f60-718293a4b5c6 "));
    CHECK_FALSE(is_canonical_uuid("8f1c6a2e-3d4b-4c5e-9f60+718293a4b5c6"));  // a dash moved
    CHECK_FALSE(is_canonical_uuid("8f1c6a2e-3d4b-4c5e-9f60-718293a4b5g6"));
    CHECK_FALSE(is_canonical_uuid(""));
    CHECK_FALSE(is_canonical_uuid(std::string_view("8f1c6a2e-3d4b-4c5e-9f60-718293a4b5\0c", 36)));
}
