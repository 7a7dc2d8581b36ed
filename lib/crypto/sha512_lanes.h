// SHA-512 compression of several equal-length messages at once, one message per SIMD lane
// (AVX-512: 8 lanes, AVX2: 4). Internal to lib/crypto: callers use sha384_pages() in
// crypto/digest.h, which checks cpu_has_avx512() / cpu_has_avx2() first.
#pragma once

#include <cstddef>
#include <cstdint>

#include "crypto/cpu_x86.h"

namespace cvm::crypto::detail {

constexpr size_t SHA512_BLOCK = 128;

// FIPS 180-4 §6.4.2 over `blocks` consecutive 128-byte blocks of each lane: lane l reads from
// blocks[l] and updates state[l] (H0..H7, host order). Only call the AVX-512 one when
// cpu_has_avx512() is true, the AVX2 one when cpu_has_avx2() is.
void sha512_compress_x8_avx512(uint64_t state[8][8], const uint8_t* const blocks[8], size_t count);
void sha512_compress_x4_avx2(uint64_t state[4][8], const uint8_t* const blocks[4], size_t count);

// FIPS 180-4 §4.2.3.
extern const uint64_t SHA512_K[80];

// How many messages one SHA-512 pass hashes: 1 is mbedTLS, one message at a time.
enum class Sha512Lanes : uint8_t { One = 1, Four = 4, Eight = 8 };

// The widest the CPU allows, or One when CVM_SHA_IMPL=portable.
Sha512Lanes sha512_lanes();

// SHA-384 of `count` messages of `size` bytes each, message i at data + i * size, into out[i],
// on this thread with the given lane count (which the CPU must support).
void sha384_same_size(Sha512Lanes lanes, const uint8_t* data, size_t size, size_t count, uint8_t (*out)[48]);

}  // namespace cvm::crypto::detail
