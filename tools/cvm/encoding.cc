#include "encoding.h"

#include <mbedtls/base64.h>

namespace cvm::cli {

std::string base64_encode(ByteView data)
{
    std::string out((data.size() + 2) / 3 * 4 + 1, '\0');
    size_t written = 0;
    if (mbedtls_base64_encode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &written, data.data(),
                              data.size()) != 0)
        return {};
    out.resize(written);
    return out;
}

std::optional<Bytes> base64_decode(std::string_view text)
{
    if (text.size() % 4 != 0 || text.find_first_of(" \t\r\n") != std::string_view::npos)
        return std::nullopt;
    Bytes out(text.size() / 4 * 3);
    size_t written = 0;
    if (mbedtls_base64_decode(out.data(), out.size(), &written, reinterpret_cast<const unsigned char*>(text.data()),
                              text.size()) != 0)
        return std::nullopt;
    out.resize(written);
    return out;
}

}  // namespace cvm::cli
