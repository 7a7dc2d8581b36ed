// The SNI nonce profile: base32 (RFC 4648 §6, lower case, no padding) of 1..32 bytes as one DNS
// label before ".nonce.ra-tls.invalid".
#include <doctest.h>

#include <string>

#include "ratls/sni_nonce.h"

using namespace cvm;
using namespace cvm::ratls;

namespace {

Bytes text_bytes(std::string_view s)
{
    return Bytes(s.begin(), s.end());
}

std::string label_of(ByteView nonce)
{
    std::string name = sni_for_nonce(nonce).value();
    REQUIRE(name.size() > SNI_NONCE_SUFFIX.size());
    REQUIRE(name.substr(name.size() - SNI_NONCE_SUFFIX.size()) == SNI_NONCE_SUFFIX);
    return name.substr(0, name.size() - SNI_NONCE_SUFFIX.size());
}

void check_refused(const std::string& name)
{
    CAPTURE(name);
    auto r = nonce_from_sni(name);
    REQUIRE(!r.ok());
    CHECK(r.error().code() == Errc::Format);
}

}  // namespace

TEST_CASE("sni nonce: RFC 4648 §10's base32 vectors, in lower case without padding")
{
    CHECK(label_of(text_bytes("f")) == "my");
    CHECK(label_of(text_bytes("fo")) == "mzxq");
    CHECK(label_of(text_bytes("foo")) == "mzxw6");
    CHECK(label_of(text_bytes("foob")) == "mzxw6yq");
    CHECK(label_of(text_bytes("fooba")) == "mzxw6ytb");
    CHECK(label_of(text_bytes("foobar")) == "mzxw6ytboi");
    CHECK(sni_for_nonce(text_bytes("foobar")).value() == "mzxw6ytboi.nonce.ra-tls.invalid");
}

TEST_CASE("sni nonce: every length from 1 to 32 bytes round-trips, 32 bytes in one 52-letter label")
{
    for (size_t n = 1; n <= MAX_SNI_NONCE; ++n) {
        CAPTURE(n);
        Bytes nonce(n);
        for (size_t i = 0; i < n; ++i)
            nonce[i] = static_cast<uint8_t>(0xA5 ^ (i * 37));
        std::string name = sni_for_nonce(nonce).value();
        auto back = nonce_from_sni(name);
        REQUIRE(back.ok());
        REQUIRE(back.value().has_value());
        CHECK(*back.value() == nonce);
        if (n == MAX_SNI_NONCE)
            CHECK(label_of(nonce).size() == 52);
    }
}

TEST_CASE("sni nonce: names without the suffix carry no nonce")
{
    for (const char* name : {"", "example.com", "nonce.ra-tls.invalid", "mzxw6ytboi.nonce.ra-tls.invalid.example",
                             "mzxw6ytboi.nonce.ra-tls.invali", "mzxw6ytboi.nonce.ratls.invalid"}) {
        CAPTURE(name);
        auto r = nonce_from_sni(name);
        REQUIRE(r.ok());
        CHECK(!r.value().has_value());
    }
}

TEST_CASE("sni nonce: either case is the same nonce, in the label and in the suffix")
{
    auto upper = nonce_from_sni("MZXW6YTBOI.NONCE.RA-TLS.INVALID");
    REQUIRE(upper.ok());
    REQUIRE(upper.value().has_value());
    CHECK(*upper.value() == text_bytes("foobar"));
}

TEST_CASE("sni nonce: a name with the suffix that is not one canonical label is refused")
{
    check_refused(std::string(SNI_NONCE_SUFFIX));                         // empty label
    check_refused("m.nonce.ra-tls.invalid");                              // 1 symbol: no byte string
    check_refused("mzx.nonce.ra-tls.invalid");                            // 3 symbols
    check_refused("mzxw6y.nonce.ra-tls.invalid");                         // 6 symbols
    check_refused("mz.nonce.ra-tls.invalid");                             // "f" is "my": the low bits of z are set
    check_refused("mzxr.nonce.ra-tls.invalid");                           // "fo" is "mzxq"
    check_refused("mzxw1.nonce.ra-tls.invalid");                          // 1 is not base32
    check_refused("mzxw=.nonce.ra-tls.invalid");                          // nor is padding
    check_refused("my.my.nonce.ra-tls.invalid");                          // two labels
    check_refused("mzxw-ytb.nonce.ra-tls.invalid");                       // a hyphen
    check_refused(std::string(56, 'a') + std::string(SNI_NONCE_SUFFIX));  // 35 bytes: over 32
    check_refused(std::string(1000, 'a') + std::string(SNI_NONCE_SUFFIX));
}

TEST_CASE("sni nonce: a client cannot ask for an empty nonce or one over 32 bytes")
{
    CHECK(sni_for_nonce(Bytes()).error().code() == Errc::Config);
    CHECK(sni_for_nonce(Bytes(MAX_SNI_NONCE + 1, 1)).error().code() == Errc::Config);
}
