// aes-xts-plain64 against vectors computed with OpenSSL (through Python's `cryptography`), for
// both sector sizes, with plain64 IVs counted in 512-byte units.
#include <doctest.h>

#include "base/bytes.h"
#include "crypto/digest.h"
#include "storage/xts.h"

using namespace cvm;
using namespace cvm::storage;

namespace {

SecretBytes test_key()
{
    SecretBytes key(64);
    for (size_t i = 0; i < 64; ++i)
        key.expose()[i] = static_cast<uint8_t>(i);
    return key;
}

Bytes pattern(size_t n)
{
    Bytes out(n);
    for (size_t i = 0; i < n; ++i)
        out[i] = static_cast<uint8_t>(i * 7 + 3);
    return out;
}

}  // namespace

TEST_CASE("xts: two sectors encrypt to OpenSSL's ciphertext and decrypt back, for 512 and 4096")
{
    struct Case {
        uint32_t sector_size;
        uint64_t first_iv;
        const char* sha256;
        const char* head;
    };
    // python3: Cipher(AES(bytes(range(64))), XTS(le128(iv))) per sector, IVs iv and iv + ss/512.
    const Case cases[] = {
        {512, 5, "1b1b92b4f8aff3c89429dfc890e0a1cfb324a1733b0ec3ed4f4bf8c869a4f673",
         "f89e38302834fc8d2523b7497fed0181"},
        {4096, 8, "bfdcfe70c9dd79d834339d10de84133c0000ffde908ae52a4388d90fb859563c",
         "d1544a0e1bdc2de0e6d883fd8000f32c"},
    };
    auto cipher = XtsCipher::create(test_key().expose());
    REQUIRE(cipher.ok());
    for (const Case& c : cases) {
        CAPTURE(c.sector_size);
        Bytes data = pattern(2 * c.sector_size);
        REQUIRE(cipher->encrypt(data, c.sector_size, c.first_iv).ok());
        CHECK(to_hex(crypto::Sha256::of(data)) == c.sha256);
        CHECK(to_hex(ByteView(data).first(16)) == c.head);
        REQUIRE(cipher->decrypt(data, c.sector_size, c.first_iv).ok());
        CHECK(data == pattern(2 * c.sector_size));
    }
}

TEST_CASE("xts: the IV of each sector advances by sector_size / 512")
{
    auto cipher = XtsCipher::create(test_key().expose());
    REQUIRE(cipher.ok());
    Bytes whole = pattern(8192), second = pattern(8192);
    REQUIRE(cipher->encrypt(whole, 4096, 16).ok());
    std::span<uint8_t> tail = std::span<uint8_t>(second).subspan(4096);
    REQUIRE(cipher->encrypt(tail, 4096, 24).ok());
    CHECK(std::equal(tail.begin(), tail.end(), whole.begin() + 4096));
}

TEST_CASE("xts: refuses bad keys and partial sectors without touching the data")
{
    CHECK(XtsCipher::create(Bytes(32, 1)).error().code() == Errc::Crypto);
    auto equal_halves = XtsCipher::create(Bytes(64, 7));
    REQUIRE_FALSE(equal_halves.ok());
    CHECK(std::string(equal_halves.error().message()).find("halves are equal") != std::string::npos);

    auto cipher = XtsCipher::create(test_key().expose());
    REQUIRE(cipher.ok());
    Bytes data = pattern(1000);
    CHECK(cipher->encrypt(data, 512, 0).error().code() == Errc::Crypto);
    CHECK(cipher->decrypt(data, 1024, 0).error().code() == Errc::Crypto);
    CHECK(data == pattern(1000));
    Bytes last = pattern(1024);
    CHECK_FALSE(cipher->encrypt(last, 512, UINT64_MAX).ok());  // second IV would wrap
    CHECK(last == pattern(1024));
}
