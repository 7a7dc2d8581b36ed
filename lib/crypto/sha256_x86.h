// SHA-256 block compression with the x86 SHA extensions. Internal to lib/crypto: callers use
// crypto/digest.h, which picks this path only when cpu_has_sha_extensions() is true.
#pragma once

#include <cstddef>
#include <cstdint>

#include "crypto/cpu_x86.h"

namespace cvm::crypto::detail {

// Runs the FIPS 180-4 §6.2.2 compression over `count` consecutive 64-byte blocks, updating
// `state` (H0..H7, host order). Must only be called when cpu_has_sha_extensions() is true.
void sha256_compress_shani(uint32_t state[8], const uint8_t* blocks, size_t count);

}  // namespace cvm::crypto::detail
