// Strict, path-naming accessors over yyjson for the LUKS2 JSON metadata.
//
// A path names a value as the LUKS2 documents do ("keyslots.0.af.stripes"); every failure is an
// Error reading `luks2 header: <path> is <found>, expected <expected>`, with header strings
// shortened and escaped (luks2_header.h shown()). LUKS2 writes 64-bit quantities as decimal
// strings ("offset": "16777216") and small ones as JSON integers ("key_size": 64); both are read
// only in that form.
//
// Internal to storage/luks2_*.
#pragma once

#include <yyjson.h>

#include <array>
#include <initializer_list>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cvm::storage::luks2 {

// How a JSON value is shown in messages: a string escaped and quoted, an integer in decimal,
// anything else by its kind ("an object", "an array", ...).
std::string describe(yyjson_val* value);

// `luks2 header: <path> is <describe(found)>, expected <expected>`.
Error unexpected(Errc code, std::string_view path, yyjson_val* found, const char* expected);

std::string join(std::string_view path, std::string_view key);

// The member `key` of the object at `path`; Errc::Format "<path>.<key> is missing" without it.
Result<yyjson_val*> member(yyjson_val* object, std::string_view path, const char* key);

// `object` must be an object whose member names are unique, all in `required` or `optional`,
// and include every `required` one.
Result<void> check_members(yyjson_val* object, std::string_view path, std::initializer_list<std::string_view> required,
                           std::initializer_list<std::string_view> optional = {});

// `object` must hold exactly one member, "0" (the strict profile's one keyslot, segment or
// digest); returns its value. Errc::Unsupported naming any other member.
Result<yyjson_val*> only_entry_zero(yyjson_val* object, std::string_view path);

Result<std::string_view> string_at(yyjson_val* object, std::string_view path, const char* key);
// The member must be the string `expected`; `code` for any other value.
Result<void> expect_string(yyjson_val* object, std::string_view path, const char* key, std::string_view expected,
                           Errc code);
// A JSON integer in [min, max].
Result<uint64_t> uint_at(yyjson_val* object, std::string_view path, const char* key, uint64_t min, uint64_t max);
// A JSON integer that must equal one of `allowed`; `code` otherwise.
Result<uint64_t> uint_in(yyjson_val* object, std::string_view path, const char* key,
                         std::initializer_list<uint64_t> allowed, Errc code);
// A string of decimal digits (no sign, no leading zero but "0") that fits 64 bits.
Result<uint64_t> decimal_at(yyjson_val* object, std::string_view path, const char* key);
// A string that is the canonical padded base64 of exactly 32 bytes.
Result<std::array<uint8_t, 32>> base64_32_at(yyjson_val* object, std::string_view path, const char* key);
// An array holding exactly the one string "0".
Result<void> expect_zero_list(yyjson_val* object, std::string_view path, const char* key);

}  // namespace cvm::storage::luks2
