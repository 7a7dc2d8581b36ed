// gzip: reproducible output the kernel and gunzip accept, and a bounded, strict decompressor.
#include <doctest.h>

#include <string>

#include "initramfs/cpio.h"
#include "initramfs/gzip.h"

using namespace cvm;
using namespace cvm::initramfs;

namespace {

Bytes gzip(const Bytes& data, size_t slice = 4096)
{
    BufferSink out;
    auto z = GzipSink::create(out);
    REQUIRE(z.ok());
    for (size_t at = 0; at < data.size(); at += slice)
        REQUIRE(z->write(ByteView(data).subspan(at, std::min(slice, data.size() - at))).ok());
    REQUIRE(z->finish().ok());
    return out.bytes();
}

Bytes sample(size_t n)
{
    Bytes b(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; ++i) {
        x = x * 1103515245 + 12345;
        b[i] = static_cast<uint8_t>(i % 7 == 0 ? x >> 24 : 'a' + i % 13);
    }
    return b;
}

}  // namespace

TEST_CASE("the gzip header carries nothing that varies; the bytes do not depend on write sizes")
{
    Bytes data = sample(300000);
    Bytes z = gzip(data);
    // ID1 ID2 CM=8 FLG=0 MTIME=0 XFL=2 (level 9) OS=3 (Unix), RFC 1952 section 2.3.
    const Bytes header = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3};
    REQUIRE(z.size() > header.size());
    CHECK(Bytes(z.begin(), z.begin() + 10) == header);
    CHECK(gzip(data, 1) == z);
    CHECK(gzip(data, 1 << 20) == z);
    CHECK(is_gzip(z));
    auto back = gunzip(z, data.size());
    REQUIRE(back.ok());
    CHECK(back.value() == data);
}

TEST_CASE("an empty stream and an archive through the sink")
{
    CHECK(gunzip(gzip({}), 0).value().empty());
    Archive a;
    REQUIRE(a.add_file("init", Bytes{'x'}, Exec::Yes).ok());
    BufferSink plain;
    REQUIRE(a.write(plain, 0).ok());
    BufferSink packed;
    auto z = GzipSink::create(packed);
    REQUIRE(z.ok());
    REQUIRE(a.write(z.value(), 0).ok());
    CHECK(gunzip(packed.bytes(), 1 << 20).value() == plain.bytes());
}

TEST_CASE("gunzip is bounded and strict")
{
    Bytes data = sample(100000);
    Bytes z = gzip(data);
    CHECK(gunzip(z, data.size()).ok());
    auto over = gunzip(z, data.size() - 1);
    REQUIRE_FALSE(over.ok());
    CHECK(over.error().code() == Errc::Format);
    CHECK(over.error().message().find("past the") != std::string_view::npos);

    for (size_t n : {size_t(0), size_t(5), size_t(10), z.size() / 2, z.size() - 1}) {
        CAPTURE(n);
        auto cut = gunzip(ByteView(z).first(n), 1 << 20);
        REQUIRE_FALSE(cut.ok());
        CHECK(cut.error().code() == Errc::Format);
    }
    Bytes corrupt = z;
    corrupt[z.size() - 6] ^= 1;  // the CRC-32 in the trailer
    CHECK_FALSE(gunzip(corrupt, 1 << 20).ok());

    Bytes padded = z;
    padded.resize(z.size() + 100, 0);
    CHECK(gunzip(padded, 1 << 20).ok());
    Bytes twice = z;
    twice.insert(twice.end(), z.begin(), z.end());
    auto second = gunzip(twice, 1 << 20);
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message().find("not zero padding") != std::string_view::npos);
    CHECK_FALSE(gunzip(Bytes{'0', '7', '0', '7', '0', '1'}, 1 << 20).ok());
}
