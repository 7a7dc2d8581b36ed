#include "verify/pem_text.h"

#include <mbedtls/base64.h>

#include "crypto/mbedtls_util.h"

namespace cvm::verify {

bool pem_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool looks_like_pem(ByteView input)
{
    std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
    size_t first = 0;
    while (first < text.size() && pem_space(text[first]))
        ++first;
    return text.substr(first, 10) == "-----BEGIN";
}

Result<Bytes> decode_pem_body(std::string_view body, size_t max_size, const std::string& what)
{
    const auto* src = reinterpret_cast<const uint8_t*>(body.data());
    size_t needed = 0;
    int rc = mbedtls_base64_decode(nullptr, 0, &needed, src, body.size());
    if (rc != 0 && rc != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
        return crypto::mbedtls_failure(Errc::Format, rc, ("PEM: " + what + " is not base64").c_str());
    if (needed == 0 || needed > max_size)
        return Error::make(Errc::Format, "PEM: %s decodes to %zu bytes, expected 1 to %zu", what.c_str(), needed,
                           max_size);
    Bytes der(needed);
    size_t written = 0;
    rc = mbedtls_base64_decode(der.data(), der.size(), &written, src, body.size());
    if (rc != 0)
        return crypto::mbedtls_failure(Errc::Format, rc, ("PEM: " + what + " is not base64").c_str());
    der.resize(written);
    return der;
}

}  // namespace cvm::verify
