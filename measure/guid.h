// Guid: a GUID as firmware stores it, in the EFI (Microsoft) mixed-endian byte order.
//
// The text form "96b582de-1fb2-45f7-baea-a366c55a082d" is stored with its first three fields
// little-endian and the last two as written (edk2 GUID layout, UEFI spec 2.10 Appendix A; Python
// `uuid.UUID(...).bytes_le`): de 82 b5 96 b2 1f f7 45 ba ea a3 66 c5 5a 08 2d. `guid()` converts
// a literal at compile time; a malformed literal does not compile.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace cvm::measure {

struct Guid {
    std::array<uint8_t, 16> bytes{};
    bool operator==(const Guid&) const = default;
};

// The canonical lower-case text form of `g`.
std::string to_string(const Guid& g);

namespace detail {

// Deliberately not constexpr: reaching it during constant evaluation is a compile error.
void malformed_guid_literal();

consteval uint8_t hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return static_cast<uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f')
        return static_cast<uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return static_cast<uint8_t>(c - 'A' + 10);
    malformed_guid_literal();
    return 0;
}

}  // namespace detail

consteval Guid guid(const char (&text)[37])
{
    // Byte i of the stored GUID comes from the hex pair at TEXT_POS[i].
    constexpr size_t TEXT_POS[16] = {6, 4, 2, 0, 11, 9, 16, 14, 19, 21, 24, 26, 28, 30, 32, 34};
    if (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')
        detail::malformed_guid_literal();
    Guid g;
    for (size_t i = 0; i < 16; ++i)
        g.bytes[i] =
            static_cast<uint8_t>(detail::hex_digit(text[TEXT_POS[i]]) << 4 | detail::hex_digit(text[TEXT_POS[i] + 1]));
    return g;
}

}  // namespace cvm::measure
