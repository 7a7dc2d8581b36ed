// SHA-384 of many equal-size pieces in SIMD lanes (AVX2: 4, AVX-512: 8) against mbedTLS one
// piece at a time: sizes around the block and padding boundaries, counts that leave lanes empty,
// and sha384_pages() with its threads and a short last page.
#include <cstring>
#include <doctest.h>
#include <vector>

#include "crypto/sha512_lanes.h"
#include "crypto_test_util.h"

using namespace cvm;
using namespace cvm::crypto;
using detail::Sha512Lanes;

namespace {

std::vector<Sha512Lanes> supported_lanes()
{
    std::vector<Sha512Lanes> out = {Sha512Lanes::One};
    if (detail::cpu_has_avx2())
        out.push_back(Sha512Lanes::Four);
    else
        MESSAGE("no AVX2: the 4-lane SHA-512 cannot be exercised here");
    if (detail::cpu_has_avx512())
        out.push_back(Sha512Lanes::Eight);
    else
        MESSAGE("no AVX-512: the 8-lane SHA-512 cannot be exercised here");
    return out;
}

std::vector<Sha384Digest> one_by_one(ByteView data, size_t size, size_t count)
{
    std::vector<Sha384Digest> out;
    for (size_t i = 0; i < count; ++i)
        out.push_back(Sha384::of(data.subspan(i * size, size)));
    return out;
}

std::vector<Sha384Digest> with_lanes(Sha512Lanes lanes, ByteView data, size_t size, size_t count)
{
    std::vector<Sha384Digest> out(count);
    detail::sha384_same_size(lanes, data.data(), size, count, reinterpret_cast<uint8_t(*)[48]>(out.data()));
    return out;
}

}  // namespace

TEST_CASE("SHA-384 lanes: FIPS 180-4 'abc' in every lane")
{
    const std::string abc = "abcabcabcabcabcabcabcabcabc";  // nine messages of three bytes
    for (auto lanes : supported_lanes()) {
        CAPTURE(static_cast<int>(lanes));
        for (const auto& d : with_lanes(lanes, as_bytes(abc), 3, 9))
            CHECK(to_hex(d) ==
                  "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca13"
                  "4c825a7");
    }
}

TEST_CASE("SHA-384 lanes equal mbedTLS around the block and padding boundaries")
{
    std::mt19937_64 rng(384);
    for (size_t size : {0, 1, 63, 111, 112, 113, 127, 128, 129, 239, 240, 241, 255, 256, 257, 1000, 4096}) {
        for (size_t count : {0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17}) {
            CAPTURE(size);
            CAPTURE(count);
            Bytes data = test::random_bytes(rng, size * count);
            const auto expected = one_by_one(data, size, count);
            for (auto lanes : supported_lanes()) {
                CAPTURE(static_cast<int>(lanes));
                CHECK(with_lanes(lanes, data, size, count) == expected);
            }
        }
    }
}

TEST_CASE("SHA-384 lanes keep lanes apart: one flipped bit changes only its own digest")
{
    std::mt19937_64 rng(8);
    Bytes data = test::random_bytes(rng, 8 * 4096);
    for (auto lanes : supported_lanes()) {
        const auto before = with_lanes(lanes, data, 4096, 8);
        for (size_t victim = 0; victim < 8; ++victim) {
            Bytes changed = data;
            changed[victim * 4096 + rng() % 4096] ^= 0x10;
            const auto after = with_lanes(lanes, changed, 4096, 8);
            for (size_t i = 0; i < 8; ++i)
                CHECK((after[i] == before[i]) == (i != victim));
        }
    }
}

TEST_CASE("sha384_pages: every page in order, threads, a short last page")
{
    std::mt19937_64 rng(4096);
    Bytes data = test::random_bytes(rng, 4 * 1024 * 1024 + 100);
    std::vector<Sha384Digest> expected = one_by_one(data, 4096, data.size() / 4096);
    expected.push_back(Sha384::of(ByteView(data).subspan(data.size() - 100)));
    for (unsigned threads : {1u, 2u, 0u, 7u}) {
        CAPTURE(threads);
        CHECK(sha384_pages(data, 4096, threads) == expected);
    }
    CHECK(sha384_pages(ByteView(data).first(8192)) ==
          std::vector<Sha384Digest>(expected.begin(), expected.begin() + 2));
    CHECK(sha384_pages({}, 4096).empty());
    // Few large pages: more threads asked for than there are pages to share.
    constexpr size_t BIG = 600 * 1024;
    CHECK(sha384_pages(ByteView(data).first(5 * BIG), BIG, 4) == one_by_one(data, BIG, 5));
    auto odd = one_by_one(data, 3, 3);  // 10 bytes in pieces of 3: three whole, one of a byte
    odd.push_back(Sha384::of(ByteView(data).subspan(9, 1)));
    CHECK(sha384_pages(ByteView(data).first(10), 3) == odd);
}
