// Byte-span aliases and small helpers shared by every layer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cvm {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Lower-case hex of `data`.
std::string to_hex(ByteView data);

// Parses hex (either case, even length, no separators); nullopt on any other input.
std::optional<Bytes> from_hex(std::string_view hex);

// An RFC 9562 UUID in its canonical text: 8-4-4-4-12 lower-case hex digits, 36 characters.
bool is_canonical_uuid(std::string_view text);

// ASCII case-insensitive equality (HTTP header names, URL schemes).
bool equals_ignore_case(std::string_view a, std::string_view b);

// True when every byte is zero (an empty span is all-zero).
bool all_zero(ByteView data);

// Byte-order helpers for writers (readers use base::Reader).
void put_le32(uint8_t* out, uint32_t v);
void put_le64(uint8_t* out, uint64_t v);
void put_be16(uint8_t* out, uint16_t v);
uint32_t get_le32(const uint8_t* in);

}  // namespace cvm
