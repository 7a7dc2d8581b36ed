#include "verify/mbedtls_error.h"

#include <mbedtls/error.h>

namespace cvm::verify {

Error mbedtls_error(Errc code, int mbedtls_rc, const char* what)
{
    char text[128];
    mbedtls_strerror(mbedtls_rc, text, sizeof text);
    unsigned magnitude = mbedtls_rc < 0 ? static_cast<unsigned>(-mbedtls_rc) : static_cast<unsigned>(mbedtls_rc);
    return Error::make(code, "%s: %s (%s0x%04x)", what, text, mbedtls_rc < 0 ? "-" : "", magnitude);
}

}  // namespace cvm::verify
