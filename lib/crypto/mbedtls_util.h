// The two pieces of mbedTLS plumbing every layer that calls mbedTLS needs, written once.
#pragma once

#include <cstddef>

#include "base/error.h"

namespace cvm::crypto {

// "<what>: <mbedTLS's description of rc> (-0xNNNN)"; `what` is a fixed string made where the
// context is known (never a secret).
Error mbedtls_failure(Errc code, int rc, const char* what);

// libsodium's randombytes_buf (getrandom) in the f_rng shape mbedTLS takes for key generation,
// ECDH blinding and ECDSA; `context` is unused. It cannot fail: returns 0.
int random_bytes(void* context, unsigned char* out, size_t size);

}  // namespace cvm::crypto
