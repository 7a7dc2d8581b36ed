// Errors from mbedTLS return codes, with mbedTLS's own description of the code.
// Internal to the verify layer.
#pragma once

#include "base/error.h"

namespace cvm::verify {

// "<what>: <mbedTLS description> (-0x2262)"; `what` is a fixed string made where the context is
// known.
Error mbedtls_error(Errc code, int mbedtls_rc, const char* what);

}  // namespace cvm::verify
