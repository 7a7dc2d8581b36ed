#include "crypto/mbedtls_util.h"

#include <mbedtls/error.h>
#include <sodium.h>

namespace cvm::crypto {

Error mbedtls_failure(Errc code, int rc, const char* what)
{
    char text[128];
    mbedtls_strerror(rc, text, sizeof text);
    unsigned magnitude = rc < 0 ? static_cast<unsigned>(-rc) : static_cast<unsigned>(rc);
    return Error::make(code, "%s: %s (%s0x%04x)", what, text, rc < 0 ? "-" : "", magnitude);
}

int random_bytes(void*, unsigned char* out, size_t size)
{
    randombytes_buf(out, size);
    return 0;
}

}  // namespace cvm::crypto
