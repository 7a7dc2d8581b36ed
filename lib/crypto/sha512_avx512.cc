// SHA-512 on eight messages at once with AVX-512: lane l of every register belongs to message l,
// so the FIPS 180-4 §6.4.2 rounds run unchanged, eight wide. VPRORQ gives the rotations and
// VPTERNLOGQ the three-input functions (Ch, Maj, the three-way XORs) in one instruction each.
// Message words are gathered from the eight inputs and byte-swapped (they are big-endian).
#include "crypto/sha512_lanes.h"

#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12's AVX-512 headers initialise their "undefined" pass-through operands from themselves
// and then warn about it (GCC PR 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define CVM_AVX512 __attribute__((target("avx512f,avx512bw")))

namespace cvm::crypto::detail {

namespace {

using V = __m512i;

template <int N>
CVM_AVX512 inline V ror(V x)
{
    return _mm512_ror_epi64(x, N);
}
CVM_AVX512 inline V add(V a, V b)
{
    return _mm512_add_epi64(a, b);
}
CVM_AVX512 inline V xor3(V a, V b, V c)
{
    return _mm512_ternarylogic_epi64(a, b, c, 0x96);
}
// FIPS 180-4 §4.1.3, (4.8) to (4.13).
CVM_AVX512 inline V ch(V e, V f, V g)
{
    return _mm512_ternarylogic_epi64(e, f, g, 0xca);
}
CVM_AVX512 inline V maj(V a, V b, V c)
{
    return _mm512_ternarylogic_epi64(a, b, c, 0xe8);
}
CVM_AVX512 inline V big_sigma0(V a)
{
    return xor3(ror<28>(a), ror<34>(a), ror<39>(a));
}
CVM_AVX512 inline V big_sigma1(V e)
{
    return xor3(ror<14>(e), ror<18>(e), ror<41>(e));
}
CVM_AVX512 inline V small_sigma0(V w)
{
    return xor3(ror<1>(w), ror<8>(w), _mm512_srli_epi64(w, 7));
}
CVM_AVX512 inline V small_sigma1(V w)
{
    return xor3(ror<19>(w), ror<61>(w), _mm512_srli_epi64(w, 6));
}

}  // namespace

CVM_AVX512 void sha512_compress_x8_avx512(uint64_t state[8][8], const uint8_t* const blocks[8], size_t count)
{
    // Lane l's block j starts at base + offset[l] + 128 j; gathers take byte offsets (scale 1).
    const uint8_t* base = blocks[0];
    alignas(64) int64_t offsets[8];
    for (int l = 0; l < 8; ++l)
        offsets[l] = static_cast<int64_t>(reinterpret_cast<uintptr_t>(blocks[l]) - reinterpret_cast<uintptr_t>(base));
    V offset = _mm512_load_si512(offsets);
    // Reverses the bytes of each 64-bit word (VPSHUFB works within 128-bit lanes).
    const V byte_swap = _mm512_broadcast_i32x4(_mm_set_epi64x(0x08090a0b0c0d0e0fLL, 0x0001020304050607LL));
    // state[l][i] -> s[i] lane l, and back at the end: a gather and a scatter with stride 64.
    const V by_lane = _mm512_set_epi64(7 * 64, 6 * 64, 5 * 64, 4 * 64, 3 * 64, 2 * 64, 1 * 64, 0);
    V s[8];
    for (int i = 0; i < 8; ++i)
        s[i] = _mm512_i64gather_epi64(by_lane, &state[0][i], 1);

    for (; count > 0; --count, offset = add(offset, _mm512_set1_epi64(SHA512_BLOCK))) {
        V w[16];
        for (int t = 0; t < 16; ++t) {
            V words = _mm512_i64gather_epi64(add(offset, _mm512_set1_epi64(8 * t)), base, 1);
            w[t] = _mm512_shuffle_epi8(words, byte_swap);
        }
        V a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
#pragma GCC unroll 80
        for (int t = 0; t < 80; ++t) {
            if (t >= 16) {  // (6.2.2) step 1, kept as a 16-word window
                w[t & 15] = add(add(w[t & 15], small_sigma0(w[(t - 15) & 15])),
                                add(w[(t - 7) & 15], small_sigma1(w[(t - 2) & 15])));
            }
            V t1 = add(add(h, _mm512_set1_epi64(static_cast<long long>(SHA512_K[t]))), add(w[t & 15], ch(e, f, g)));
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
    for (int i = 0; i < 8; ++i)
        _mm512_i64scatter_epi64(&state[0][i], by_lane, s[i], 1);
}

}  // namespace cvm::crypto::detail

#else  // not x86-64: never called (cpu_has_*() are false)

namespace cvm::crypto::detail {

void sha512_compress_x8_avx512(uint64_t (*)[8], const uint8_t* const*, size_t)
{
    __builtin_trap();
}

}  // namespace cvm::crypto::detail

#endif
