// SHA-512 on four messages at once with AVX2: lane l of every register belongs to message l, so
// the FIPS 180-4 §6.4.2 rounds run unchanged, four wide. AVX2 has no 64-bit rotate or three-input
// logic, so those take two shifts and an OR, and two or three operations, as written out below.
#include "crypto/sha512_lanes.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CVM_AVX2 __attribute__((target("avx2")))

namespace cvm::crypto::detail {

namespace {

using V = __m256i;

template <int N>
CVM_AVX2 inline V ror(V x)
{
    return _mm256_or_si256(_mm256_srli_epi64(x, N), _mm256_slli_epi64(x, 64 - N));
}
CVM_AVX2 inline V add(V a, V b)
{
    return _mm256_add_epi64(a, b);
}
CVM_AVX2 inline V xor3(V a, V b, V c)
{
    return _mm256_xor_si256(_mm256_xor_si256(a, b), c);
}
// FIPS 180-4 §4.1.3, (4.8) to (4.13); Ch as g ^ (e & (f ^ g)), Maj as (a & b) | (c & (a | b)).
CVM_AVX2 inline V ch(V e, V f, V g)
{
    return _mm256_xor_si256(g, _mm256_and_si256(e, _mm256_xor_si256(f, g)));
}
CVM_AVX2 inline V maj(V a, V b, V c)
{
    return _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(c, _mm256_or_si256(a, b)));
}
CVM_AVX2 inline V big_sigma0(V a)
{
    return xor3(ror<28>(a), ror<34>(a), ror<39>(a));
}
CVM_AVX2 inline V big_sigma1(V e)
{
    return xor3(ror<14>(e), ror<18>(e), ror<41>(e));
}
CVM_AVX2 inline V small_sigma0(V w)
{
    return xor3(ror<1>(w), ror<8>(w), _mm256_srli_epi64(w, 7));
}
CVM_AVX2 inline V small_sigma1(V w)
{
    return xor3(ror<19>(w), ror<61>(w), _mm256_srli_epi64(w, 6));
}

}  // namespace

CVM_AVX2 void sha512_compress_x4_avx2(uint64_t state[4][8], const uint8_t* const blocks[4], size_t count)
{
    // Lane l's block j starts at base + offset[l] + 128 j; gathers take byte offsets (scale 1).
    const auto* base = reinterpret_cast<const long long*>(blocks[0]);
    alignas(32) int64_t offsets[4];
    for (int l = 0; l < 4; ++l)
        offsets[l] = static_cast<int64_t>(reinterpret_cast<uintptr_t>(blocks[l]) - reinterpret_cast<uintptr_t>(base));
    V offset = _mm256_load_si256(reinterpret_cast<const V*>(offsets));
    const V byte_swap = _mm256_broadcastsi128_si256(_mm_set_epi64x(0x08090a0b0c0d0e0fLL, 0x0001020304050607LL));
    V s[8];
    for (int i = 0; i < 8; ++i)
        s[i] = _mm256_set_epi64x(static_cast<long long>(state[3][i]), static_cast<long long>(state[2][i]),
                                 static_cast<long long>(state[1][i]), static_cast<long long>(state[0][i]));

    for (; count > 0; --count, offset = add(offset, _mm256_set1_epi64x(SHA512_BLOCK))) {
        V w[16];
        for (int t = 0; t < 16; ++t) {
            V words = _mm256_i64gather_epi64(base, add(offset, _mm256_set1_epi64x(8 * t)), 1);
            w[t] = _mm256_shuffle_epi8(words, byte_swap);
        }
        V a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
#pragma GCC unroll 80
        for (int t = 0; t < 80; ++t) {
            if (t >= 16) {  // (6.2.2) step 1, kept as a 16-word window
                w[t & 15] = add(add(w[t & 15], small_sigma0(w[(t - 15) & 15])),
                                add(w[(t - 7) & 15], small_sigma1(w[(t - 2) & 15])));
            }
            V t1 = add(add(h, _mm256_set1_epi64x(static_cast<long long>(SHA512_K[t]))), add(w[t & 15], ch(e, f, g)));
            t1 = add(t1, big_sigma1(e));
            V t2 = add(big_sigma0(a), maj(a, b, c));
            h = g;
            g = f;
            f = e;
            e = add(d, t1);
            d = c;
            c = b;
            b = a;
            a = add(t1, t2);
        }
        s[0] = add(s[0], a), s[1] = add(s[1], b), s[2] = add(s[2], c), s[3] = add(s[3], d);
        s[4] = add(s[4], e), s[5] = add(s[5], f), s[6] = add(s[6], g), s[7] = add(s[7], h);
    }
    alignas(32) uint64_t lanes[4];
    for (int i = 0; i < 8; ++i) {
        _mm256_store_si256(reinterpret_cast<V*>(lanes), s[i]);
        for (int l = 0; l < 4; ++l)
            state[l][i] = lanes[l];
    }
}

}  // namespace cvm::crypto::detail

#else  // not x86-64: never called (cpu_has_*() are false)

namespace cvm::crypto::detail {

void sha512_compress_x4_avx2(uint64_t (*)[8], const uint8_t* const*, size_t)
{
    __builtin_trap();
}

}  // namespace cvm::crypto::detail

#endif
