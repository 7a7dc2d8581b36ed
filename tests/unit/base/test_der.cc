#include <doctest.h>

#include "base/der.h"

using namespace cvm;

TEST_CASE("DER reads short and long lengths")
{
    Bytes data = {0x04, 0x02, 0xaa, 0xbb, 0x30, 0x81, 0x80};
    data.resize(7 + 0x80, 0x01);
    Reader r(data);
    auto s = der::read(r, der::OCTET_STRING, "s").value();
    CHECK(s.size() == 2);
    auto seq = der::read(r, der::SEQUENCE, "seq").value();
    CHECK(seq.size() == 0x80);
    CHECK(r.finish().ok());
}

TEST_CASE("DER rejects wrong tags, indefinite and non-minimal lengths")
{
    const uint8_t wrong_tag[] = {0x02, 0x01, 0x00};
    Reader r1(wrong_tag);
    CHECK_FALSE(der::read(r1, der::SEQUENCE, "x").ok());

    const uint8_t indefinite[] = {0x30, 0x80, 0x00, 0x00};
    Reader r2(indefinite);
    CHECK_FALSE(der::read_any(r2, "x").ok());

    const uint8_t non_minimal[] = {0x04, 0x81, 0x01, 0xaa};
    Reader r3(non_minimal);
    CHECK_FALSE(der::read_any(r3, "x").ok());

    const uint8_t past_end[] = {0x04, 0x05, 0xaa};
    Reader r4(past_end);
    CHECK_FALSE(der::read_any(r4, "x").ok());

    const uint8_t high_tag[] = {0x1f, 0x81, 0x00};
    Reader r5(high_tag);
    CHECK_FALSE(der::read_any(r5, "x").ok());
}

TEST_CASE("DER small unsigned integers")
{
    const uint8_t v0[] = {0x00};
    const uint8_t v255[] = {0x00, 0xff};
    const uint8_t neg[] = {0x80};
    const uint8_t padded[] = {0x00, 0x01};
    const uint8_t big[] = {0x01, 0x00, 0x00, 0x00, 0x00};
    CHECK(der::read_small_uint(v0, "x").value() == 0);
    CHECK(der::read_small_uint(v255, "x").value() == 255);
    CHECK_FALSE(der::read_small_uint(neg, "x").ok());
    CHECK_FALSE(der::read_small_uint(padded, "x").ok());
    CHECK_FALSE(der::read_small_uint(big, "x").ok());
    CHECK_FALSE(der::read_small_uint({}, "x").ok());
}
