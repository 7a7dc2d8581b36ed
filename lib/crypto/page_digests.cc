// SHA-384 of many equal-size pages: SIMD lanes where the CPU has them, and threads. The SNP
// launch digest hashes every 4 KiB firmware page; with mbedTLS that is the slowest part of a
// firmware-only measurement (~590 MB/s here, where OpenSSL's SHA-384 reaches ~1.2 GB/s).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "crypto/digest.h"
#include "crypto/sha512_lanes.h"

namespace cvm::crypto {

namespace detail {

const uint64_t SHA512_K[80] = {
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
    0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
    0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
    0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
    0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
    0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
    0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
    0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
    0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
    0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
    0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
    0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
    0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
};

namespace {

// FIPS 180-4 §5.3.4: the SHA-384 initial hash value.
constexpr uint64_t SHA384_H0[8] = {0xcbbb9d5dc1059ed8, 0x629a292a367cd507, 0x9159015a3070dd17, 0x152fecd8f70e5939,
                                   0x67332667ffc00b31, 0x8eb44a8768581511, 0xdb0c2e0d64f98fa7, 0x47b5481dbefa4fa4};

template <size_t L>
void compress(uint64_t (&state)[L][8], const uint8_t* const (&blocks)[L], size_t count)
{
    if constexpr (L == 8)
        sha512_compress_x8_avx512(state, blocks, count);
    else
        sha512_compress_x4_avx2(state, blocks, count);
}

// Up to L messages of `size` bytes through the L-lane compression; unused lanes repeat message 0.
template <size_t L>
void hash_group(const uint8_t* const (&msgs)[L], size_t used, size_t size, uint8_t (*out)[48])
{
    uint64_t state[L][8];
    for (auto& s : state)
        memcpy(s, SHA384_H0, sizeof s);
    compress(state, msgs, size / SHA512_BLOCK);

    // FIPS 180-4 §5.1.2: the rest, the bit "1", zeros, and the 128-bit big-endian bit length;
    // one final block when the rest leaves room for 17 bytes, two otherwise.
    const size_t rest = size % SHA512_BLOCK;
    const size_t tail_blocks = rest + 17 <= SHA512_BLOCK ? 1 : 2;
    const uint64_t bits = uint64_t{size} * 8;
    uint8_t tails[L][2 * SHA512_BLOCK] = {};
    const uint8_t* tail_ptrs[L];
    for (size_t l = 0; l < L; ++l) {
        if (rest > 0)  // msgs[l] may be null for empty messages
            memcpy(tails[l], msgs[l] + size - rest, rest);
        tails[l][rest] = 0x80;
        uint8_t* len = tails[l] + tail_blocks * SHA512_BLOCK - 16;
        for (int i = 0; i < 8; ++i)  // the high 64 bits of the length stay zero
            len[8 + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
        tail_ptrs[l] = tails[l];
    }
    compress(state, tail_ptrs, tail_blocks);

    for (size_t l = 0; l < used; ++l)
        for (size_t i = 0; i < 6; ++i)
            for (size_t b = 0; b < 8; ++b)
                out[l][8 * i + b] = static_cast<uint8_t>(state[l][i] >> (56 - 8 * b));
}

template <size_t L>
void hash_all(const uint8_t* data, size_t size, size_t count, uint8_t (*out)[48])
{
    for (size_t first = 0; first < count; first += L) {
        const size_t used = std::min(L, count - first);
        const uint8_t* msgs[L];
        for (size_t l = 0; l < L; ++l)
            msgs[l] = data + (first + (l < used ? l : 0)) * size;
        hash_group<L>(msgs, used, size, out + first);
    }
}

}  // namespace

Sha512Lanes sha512_lanes()
{
    static const Sha512Lanes lanes = [] {
        const char* env = getenv("CVM_SHA_IMPL");
        if (env && strcmp(env, "portable") == 0)
            return Sha512Lanes::One;
        if (cpu_has_avx512())
            return Sha512Lanes::Eight;
        return cpu_has_avx2() ? Sha512Lanes::Four : Sha512Lanes::One;
    }();
    return lanes;
}

void sha384_same_size(Sha512Lanes lanes, const uint8_t* data, size_t size, size_t count, uint8_t (*out)[48])
{
    switch (lanes) {
    case Sha512Lanes::Eight: return hash_all<8>(data, size, count, out);
    case Sha512Lanes::Four: return hash_all<4>(data, size, count, out);
    case Sha512Lanes::One: break;
    }
    for (size_t i = 0; i < count; ++i) {
        auto d = Sha384::of({data + i * size, size});
        memcpy(out[i], d.data(), d.size());
    }
}

}  // namespace detail

unsigned sha384_pages_lanes()
{
    return static_cast<unsigned>(detail::sha512_lanes());
}

std::vector<Sha384Digest> sha384_pages(ByteView data, size_t page_size, unsigned max_threads)
{
    if (page_size == 0)
        abort();  // a contract violation, not an input error
    const size_t whole = data.size() / page_size;
    std::vector<Sha384Digest> out(whole + (data.size() % page_size != 0 ? 1 : 0));
    auto* raw = reinterpret_cast<uint8_t(*)[48]>(out.data());
    static_assert(sizeof(Sha384Digest) == 48);

    // Threads pay off from about a megabyte (starting one costs tens of microseconds).
    constexpr size_t MIN_BYTES_PER_THREAD = 512 * 1024;
    if (max_threads == 0)
        max_threads = std::max(1u, std::thread::hardware_concurrency());
    const size_t threads = std::clamp<size_t>(whole * page_size / MIN_BYTES_PER_THREAD, 1, max_threads);
    const size_t per_thread = (whole + threads - 1) / threads;
    const detail::Sha512Lanes lanes = detail::sha512_lanes();
    auto work = [&](size_t first) {
        size_t n = std::min(per_thread, whole - first);
        detail::sha384_same_size(lanes, data.data() + first * page_size, page_size, n, raw + first);
    };
    std::vector<std::thread> pool;
    for (size_t first = per_thread; first < whole; first += per_thread)
        pool.emplace_back(work, first);
    work(0);
    for (auto& t : pool)
        t.join();
    if (whole < out.size())
        out.back() = Sha384::of(data.subspan(whole * page_size));
    return out;
}

}  // namespace cvm::crypto
