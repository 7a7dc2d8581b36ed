// The DER encoders certificates are built from: the simulated platform's and RA-TLS's
// (X.690 §8, §10; RFC 5280 §4.1.2.5).
#include <doctest.h>

#include "base/asn1.h"

using namespace cvm;

namespace {

std::string hex(const Result<Bytes>& b)
{
    REQUIRE_MESSAGE(b.ok(), b.error().message());
    return to_hex(b.value());
}

}  // namespace

TEST_CASE("INTEGERs are minimal and non-negative")
{
    CHECK(to_hex(asn1::integer(0)) == "020100");
    CHECK(to_hex(asn1::integer(48)) == "020130");
    CHECK(to_hex(asn1::integer(127)) == "02017f");
    CHECK(to_hex(asn1::integer(128)) == "02020080");
    CHECK(to_hex(asn1::integer(0x10000)) == "0203010000");
    CHECK(to_hex(asn1::integer(UINT64_MAX)) == "020900ffffffffffffffff");
}

TEST_CASE("INTEGERs from a big-endian magnitude drop leading zeros and keep the sign bit clear")
{
    CHECK(to_hex(asn1::integer_from_magnitude({})) == "020100");
    CHECK(to_hex(asn1::integer_from_magnitude(Bytes{0, 0, 0})) == "020100");
    CHECK(to_hex(asn1::integer_from_magnitude(Bytes{0, 0, 0x7f})) == "02017f");
    CHECK(to_hex(asn1::integer_from_magnitude(Bytes{0x80})) == "02020080");
    CHECK(to_hex(asn1::integer_from_magnitude(Bytes{0, 0x81, 0x02})) == "0203008102");
    Bytes serial(20, 0xff);
    CHECK(asn1::integer_from_magnitude(serial).size() == 2 + 21);
}

TEST_CASE("lengths use the short form below 128 and the fewest octets above")
{
    CHECK(to_hex(asn1::octet_string(Bytes(127, 0))).substr(0, 4) == "047f");
    CHECK(to_hex(asn1::octet_string(Bytes(128, 0))).substr(0, 6) == "048180");
    CHECK(to_hex(asn1::octet_string(Bytes(256, 0))).substr(0, 8) == "04820100");
    CHECK(asn1::octet_string(Bytes(70000, 0)).size() == 70000 + 5);
}

TEST_CASE("OIDs, as AMD's certificates carry them")
{
    CHECK(to_hex(asn1::oid({1, 2, 840, 113549, 1, 1, 10})) == "06092a864886f70d01010a");        // id-RSASSA-PSS
    CHECK(to_hex(asn1::oid({2, 16, 840, 1, 101, 3, 4, 2, 2})) == "0609608648016503040202");     // id-sha384
    CHECK(to_hex(asn1::oid({1, 3, 6, 1, 4, 1, 3704, 1, 3, 8})) == "060a2b060104019c78010308");  // ucodeSPL
    CHECK(to_hex(asn1::oid({2, 5, 29, 19})) == "0603551d13");
}

TEST_CASE("simple types")
{
    CHECK(to_hex(asn1::boolean(true)) == "0101ff");
    CHECK(to_hex(asn1::boolean(false)) == "010100");
    CHECK(to_hex(asn1::null()) == "0500");
    CHECK(to_hex(asn1::bit_string(Bytes{0x06}, 1)) == "03020106");
    CHECK(to_hex(asn1::ia5_string("Genoa")) == "160547656e6f61");
    CHECK(to_hex(asn1::utf8_string("CA")) == "0c024341");
    CHECK(to_hex(asn1::explicit_tag(2, asn1::integer(48))) == "a203020130");
    CHECK(to_hex(asn1::sequence({asn1::integer(1), asn1::null()})) == "30050201010500");
    CHECK(to_hex(asn1::set_of_one(asn1::null())) == "31020500");
}

TEST_CASE("validity times: UTCTime through 2049, GeneralizedTime from 2050")
{
    CHECK(hex(asn1::x509_time(1643211277)) == "170d" + to_hex(as_bytes("220126153437Z")));  // ARK-Genoa notBefore
    CHECK(hex(asn1::x509_time(2524607999)) == "170d" + to_hex(as_bytes("491231235959Z")));
    CHECK(hex(asn1::x509_time(2524608000)) == "180f" + to_hex(as_bytes("20500101000000Z")));
    auto too_early = asn1::x509_time(-1000000000);  // 1938
    REQUIRE_FALSE(too_early.ok());
    CHECK(too_early.error().code() == Errc::Config);
}
