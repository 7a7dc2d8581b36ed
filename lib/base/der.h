// Minimal strict DER (ITU-T X.690 §10) element reader on top of Reader.
//
// Reads one tag-length-value at a time: single-byte tags only (all the structures we parse use
// low tag numbers), definite lengths in minimal form, and lengths bounded by the input.
#pragma once

#include <cstdint>

#include "base/reader.h"

namespace cvm::der {

inline constexpr uint8_t INTEGER = 0x02;
inline constexpr uint8_t OCTET_STRING = 0x04;
inline constexpr uint8_t OID = 0x06;
inline constexpr uint8_t BOOLEAN = 0x01;
inline constexpr uint8_t IA5_STRING = 0x16;
inline constexpr uint8_t SEQUENCE = 0x30;

struct Element {
    uint8_t tag{0};
    ByteView content;
};

// Reads the next element, whatever its tag.
Result<Element> read_any(Reader& r, const char* field);

// Reads the next element and requires `tag`.
Result<ByteView> read(Reader& r, uint8_t tag, const char* field);

// A non-negative INTEGER that fits in 32 bits (minimal encoding, sign bit clear).
Result<uint32_t> read_small_uint(ByteView integer_content, const char* field);

}  // namespace cvm::der
