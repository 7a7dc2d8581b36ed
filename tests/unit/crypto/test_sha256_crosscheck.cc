// The SHA-extensions path against the portable one (mbedTLS) and against a plain FIPS 180-4
// reference compression: every length across several blocks, random split points, random chaining
// states. A wrong lane, shuffle or schedule step in the SIMD code shows up as a mismatch here.
#include <cstdlib>
#include <cstring>
#include <doctest.h>

#include "crypto/sha256_engine.h"
#include "crypto/sha256_x86.h"
#include "crypto_test_util.h"

using namespace cvm;
using namespace cvm::crypto;
using test::ImplGuard;
using test::random_bytes;
using test::sha256_with;

namespace {

// Feeds `data` in random pieces (empty ones included) to a fresh Sha256.
Sha256Digest split_digest(std::mt19937_64& rng, ByteView data)
{
    Sha256 d;
    size_t off = 0;
    while (off < data.size()) {
        size_t left = data.size() - off;
        size_t piece = rng() % 4 == 0 ? rng() % 3 : rng() % (left < 300 ? left + 1 : 300);
        if (rng() % 16 == 0)
            piece = left;
        piece = piece > left ? left : piece;
        d.update(data.subspan(off, piece));
        off += piece;
    }
    return d.finish();
}

bool need_shani()
{
    if (sha256_shani_supported())
        return true;
    MESSAGE("this CPU has no SHA extensions: the SIMD path cannot be exercised here");
    return false;
}

}  // namespace

TEST_CASE("SHA extensions and portable agree on every length from 0 to 4160 bytes")
{
    if (!need_shani())
        return;
    std::mt19937_64 rng(180'4);
    Bytes data = random_bytes(rng, 4160);
    for (size_t len = 0; len <= data.size(); ++len) {
        ByteView m(data.data(), len);
        if (sha256_with(Sha256Impl::ShaNi, m) != sha256_with(Sha256Impl::Portable, m)) {
            FAIL("mismatch at length " << len);
        }
    }
}

TEST_CASE("split updates at random boundaries give the one-shot digest, both paths")
{
    std::mt19937_64 rng(0x5ec5);
    for (int round = 0; round < 400; ++round) {
        Bytes data = random_bytes(rng, rng() % 9000);
        const Sha256Digest expected = sha256_with(Sha256Impl::Portable, data);
        CAPTURE(data.size());
        {
            ImplGuard guard(Sha256Impl::Portable);
            CHECK(split_digest(rng, data) == expected);
        }
        if (sha256_shani_supported()) {
            ImplGuard guard(Sha256Impl::ShaNi);
            CHECK(split_digest(rng, data) == expected);
        }
    }
}

TEST_CASE("SIMD compression equals the reference compression from random chaining states")
{
    if (!need_shani())
        return;
    std::mt19937_64 rng(64);
    for (int round = 0; round < 2000; ++round) {
        uint32_t a[8], b[8];
        for (auto& w : a)
            w = static_cast<uint32_t>(rng());
        memcpy(b, a, sizeof a);
        size_t blocks = 1 + rng() % 8;
        Bytes data = random_bytes(rng, 64 * blocks);
        detail::sha256_compress_shani(a, data.data(), blocks);
        test::reference_compress(b, data.data(), blocks);
        REQUIRE(memcmp(a, b, sizeof a) == 0);
    }
}

TEST_CASE("the padding engine with the reference compression matches mbedTLS (any CPU)")
{
    std::mt19937_64 rng(7);
    Bytes data = random_bytes(rng, 1100);
    for (size_t len = 0; len <= data.size(); ++len) {
        ByteView m(data.data(), len);
        detail::Sha256Engine engine(&test::reference_compress);
        size_t cut = len == 0 ? 0 : rng() % len;
        engine.update(m.first(cut));
        engine.update(m.subspan(cut));
        REQUIRE(engine.finish() == sha256_with(Sha256Impl::Portable, m));
    }
}

TEST_CASE("a moved Sha256 keeps its state on either path; empty updates change nothing")
{
    for (auto impl : {Sha256Impl::Portable, Sha256Impl::ShaNi}) {
        ImplGuard guard(impl);
        if (!guard.ok())
            continue;
        Sha256 first;
        first.update(as_bytes("ab"));
        first.update(ByteView{});  // empty, with a null data(), while a block is partly filled
        Sha256 second(std::move(first));
        second.update(as_bytes("c"));
        Sha256 third;
        third = std::move(second);
        CHECK(to_hex(third.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}

TEST_CASE("implementation selection")
{
    CHECK(std::string(sha256_impl_name(Sha256Impl::Portable)) == "portable");
    CHECK(std::string(sha256_impl_name(Sha256Impl::ShaNi)) == "sha-ni");
    {
        ImplGuard guard(Sha256Impl::Portable);
        CHECK(sha256_impl() == Sha256Impl::Portable);
    }
    auto forced = set_sha256_impl(Sha256Impl::ShaNi);
    if (sha256_shani_supported()) {
        CHECK(forced.ok());
        CHECK(sha256_impl() == Sha256Impl::ShaNi);
    } else {
        REQUIRE_FALSE(forced.ok());
        CHECK(forced.error().code() == Errc::Unsupported);
    }
    reset_sha256_impl();

    // The default: the SHA extensions when present, unless CVM_SHA_IMPL=portable (meson runs
    // this binary both with and without it).
    const char* env = getenv("CVM_SHA_IMPL");
    bool portable = (env && strcmp(env, "portable") == 0) || !sha256_shani_supported();
    CHECK(sha256_impl() == (portable ? Sha256Impl::Portable : Sha256Impl::ShaNi));
}
