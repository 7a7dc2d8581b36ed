// SHA-256 with the Intel SHA extensions, written from the instruction descriptions in Intel's
// "Intel SHA Extensions" white paper (Gulley et al., 2013) and the SDM entries for SHA256RNDS2,
// SHA256MSG1 and SHA256MSG2.
//
// Only the functions below carry __attribute__((target(...))): the rest of the build needs no
// -msha, and the release build (-mcpu=baseline) still gets this path through run-time dispatch.
#include "crypto/sha256_x86.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace cvm::crypto::detail {

#if defined(__x86_64__)

namespace {

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64
// primes.
alignas(16) constexpr uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define CVM_SHA_TARGET __attribute__((target("sha,sse4.1")))

// Message words are big-endian: reverse the bytes of each 32-bit lane.
CVM_SHA_TARGET inline __m128i load_be_words(const uint8_t* p, __m128i byte_swap)
{
    return _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), byte_swap);
}

// W[t..t+3] from W[t-16..t-1], held as four groups w0 = W[t-16..t-13] ... w3 = W[t-4..t-1]:
// MSG1 adds sigma0(W[t-15..t-12]) to W[t-16..t-13]; W[t-7..t-4] is the middle of w2:w3; MSG2
// adds sigma1 of W[t-2], W[t-1] and then of the two words it has just produced.
CVM_SHA_TARGET inline __m128i next_words(__m128i w0, __m128i w1, __m128i w2, __m128i w3)
{
    __m128i x = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
    return _mm_sha256msg2_epu32(x, w3);
}

// Four rounds. SHA256RNDS2 reads the state as two halves, ABEF and CDGH (A in the top lane),
// plus W+K for two rounds in the low 64 bits of its third operand, and returns the new ABEF; the
// old ABEF is then the new CDGH, so the two registers swap roles after every call.
CVM_SHA_TARGET inline void four_rounds(__m128i& abef, __m128i& cdgh, __m128i w, const uint32_t* k)
{
    __m128i wk = _mm_add_epi32(w, _mm_load_si128(reinterpret_cast<const __m128i*>(k)));
    cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
    abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
}

}  // namespace

CVM_SHA_TARGET void sha256_compress_shani(uint32_t state[8], const uint8_t* blocks, size_t count)
{
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);

    // state[0..3] = A B C D and state[4..7] = E F G H, lane 0 first. Build ABEF and CDGH with
    // A and C in the top lanes: shuffle to B A D C and H G F E, then take halves of each.
    __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));
    __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));
    __m128i badc = _mm_shuffle_epi32(abcd, 0xb1);
    __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1b);
    __m128i abef = _mm_alignr_epi8(badc, hgfe, 8);     // lanes F E B A
    __m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xf0);  // lanes H G D C

    for (; count > 0; --count, blocks += 64) {
        const __m128i abef_in = abef;
        const __m128i cdgh_in = cdgh;
        __m128i w0 = load_be_words(blocks, byte_swap);
        __m128i w1 = load_be_words(blocks + 16, byte_swap);
        __m128i w2 = load_be_words(blocks + 32, byte_swap);
        __m128i w3 = load_be_words(blocks + 48, byte_swap);
        for (int t = 0; t < 64; t += 16) {
            four_rounds(abef, cdgh, w0, K + t);
            four_rounds(abef, cdgh, w1, K + t + 4);
            four_rounds(abef, cdgh, w2, K + t + 8);
            four_rounds(abef, cdgh, w3, K + t + 12);
            if (t == 48)
                break;
            w0 = next_words(w0, w1, w2, w3);
            w1 = next_words(w1, w2, w3, w0);
            w2 = next_words(w2, w3, w0, w1);
            w3 = next_words(w3, w0, w1, w2);
        }
        // FIPS 180-4 §6.2.2 step 4: add the block's input state.
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
    }

    // Back to A B C D / E F G H: A B E F and G H C D, then recombine the halves.
    __m128i abef_r = _mm_shuffle_epi32(abef, 0x1b);
    __m128i ghcd = _mm_shuffle_epi32(cdgh, 0xb1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_blend_epi16(abef_r, ghcd, 0xf0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_alignr_epi8(ghcd, abef_r, 8));
}

#else  // not x86-64: the portable path only

void sha256_compress_shani(uint32_t*, const uint8_t*, size_t)
{
    __builtin_trap();
}

#endif

}  // namespace cvm::crypto::detail
