#include <algorithm>

#include "ratls/ratls.h"

namespace cvm::ratls {
namespace {

bool is_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

Result<void> check_dns_name(std::string_view name)
{
    if (name.empty() || name.size() > MAX_DNS_NAME_LENGTH)
        return Error::make(Errc::Format, "a name of %zu bytes, expected 1 to %zu", name.size(), MAX_DNS_NAME_LENGTH);
    const int shown = static_cast<int>(std::min<size_t>(name.size(), 80));
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = std::min(name.find('.', start), name.size());
        std::string_view label = name.substr(start, end - start);
        if (label.empty() || label.size() > 63)
            return Error::make(Errc::Format, "\"%.*s\" has a label of %zu bytes, expected 1 to 63", shown, name.data(),
                               label.size());
        for (char c : label) {
            if (!is_ldh(c))
                return Error::make(Errc::Format, "\"%.*s\" holds byte 0x%02x, expected letters, digits, '-' and '.'",
                                   shown, name.data(), static_cast<unsigned>(static_cast<unsigned char>(c)));
        }
        if (label.front() == '-' || label.back() == '-')
            return Error::make(Errc::Format, "\"%.*s\" has a label starting or ending with '-'", shown, name.data());
        start = end + 1;
    }
    return {};
}

}  // namespace cvm::ratls
