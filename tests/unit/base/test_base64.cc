#include "base/base64.h"

#include <doctest/doctest.h>

namespace cvm {
namespace {

Bytes text_bytes(std::string_view s)
{
    return Bytes(s.begin(), s.end());
}

TEST_CASE("base64: the RFC 4648 §10 test vectors both ways")
{
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (auto [plain, encoded] : vectors) {
        CHECK(base64_encode(text_bytes(plain)) == encoded);
        auto decoded = base64_decode(encoded);
        REQUIRE(decoded);
        CHECK(*decoded == text_bytes(plain));
    }
}

TEST_CASE("base64: only the canonical encoding decodes")
{
    for (const char* bad :
         {"Zg", "Zg=", "Zm9", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", "Zg==Zg==", "Zm9v=", "====", "Zm-v", "Zm_v",
          "Z==="
          "Zm9v Y"}) {
        CAPTURE(std::string_view(bad));
        CHECK_FALSE(base64_decode(bad));
    }
    CHECK_FALSE(base64_decode(std::string_view("Zm9\0", 4)));
}

TEST_CASE("base64: fixed-size and secret decoding")
{
    auto key = base64_decode_fixed<3>("Zm9v");
    REQUIRE(key);
    CHECK((*key)[0] == 'f');
    CHECK_FALSE(base64_decode_fixed<4>("Zm9v"));
    CHECK_FALSE(base64_decode_fixed<2>("Zm9v"));

    auto secret = base64_decode_secret("Zm9vYmE=");
    REQUIRE(secret);
    CHECK(secret->size() == 5);
    CHECK(secret->expose()[4] == 'a');
    CHECK_FALSE(base64_decode_secret("Zm9vYmE"));
}

TEST_CASE("base64url: RFC 4648 §5 alphabet, no padding, canonical only")
{
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"},
    };
    for (auto [plain, encoded] : vectors) {
        CHECK(base64url_encode(text_bytes(plain)) == encoded);
        auto decoded = base64url_decode(encoded);
        REQUIRE(decoded);
        CHECK(*decoded == text_bytes(plain));
    }
    // 0xfb 0xff: "+/8=" in the standard alphabet, "-_8" here.
    CHECK(base64url_encode(Bytes{0xfb, 0xff}) == "-_8");
    CHECK(base64url_decode("-_8") == Bytes{0xfb, 0xff});
    for (const char* bad : {"Zg==", "Zg=", "+/8", "Zh", "Zm9vYmF", "Z", "Zm9v ", " Zm9v", "Zm\n9v", "Zm9v.", "Zm9vZ"}) {
        CAPTURE(std::string_view(bad));
        CHECK_FALSE(base64url_decode(bad));
    }
    Bytes all(256);
    for (size_t i = 0; i < all.size(); ++i)
        all[i] = static_cast<uint8_t>(i);
    for (size_t length = 0; length <= all.size(); ++length) {
        ByteView part(all.data(), length);
        auto back = base64url_decode(base64url_encode(part));
        REQUIRE(back);
        CHECK(Bytes(part.begin(), part.end()) == *back);
    }
}

TEST_CASE("base64: every byte value round-trips")
{
    Bytes all(256);
    for (size_t i = 0; i < all.size(); ++i)
        all[i] = static_cast<uint8_t>(i);
    for (size_t length = 0; length <= all.size(); length += 17) {
        ByteView part(all.data(), length);
        auto back = base64_decode(base64_encode(part));
        REQUIRE(back);
        CHECK(Bytes(part.begin(), part.end()) == *back);
    }
}

}  // namespace
}  // namespace cvm
