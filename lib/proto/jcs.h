// RFC 8785 JSON Canonicalization Scheme (JCS): one byte string per JSON value, so the agent and
// the broker hash the same bytes for the cvmkb/1 request object (DESIGN.md §4: report_data binds
// SHA-256 of the JCS form of `request`).
//
// Output: no whitespace; object members sorted by the UTF-16 code units of their names
// (§3.2.3); strings escaped as ECMAScript JSON.stringify does (§3.2.2.2); literals as-is.
//
// Deliberately narrower than RFC 8785, and refused rather than guessed at:
// - Numbers must be integers with |n| <= 2^53 - 1 (the I-JSON exact range, RFC 7493 §2.2), written
//   in plain decimal. Any number yyjson reads as a real (1.5, 1e3, 1.0, -0.0, or an integer beyond
//   64 bits) is Errc::Unsupported: the protocol never carries one, and ECMAScript double formatting
//   (RFC 8785 §3.2.2.3) is where JCS implementations disagree. "-0" is the integer 0 and gives "0".
// - Duplicate member names are Errc::Format (I-JSON, RFC 7493 §2.3, which RFC 8785 §3.1 requires).
// - Strings must be well-formed UTF-8 without surrogate code points (I-JSON §2.1). yyjson 0.10
//   refuses lone "\ud800" escapes whatever the flags, and its strict reader refuses invalid UTF-8;
//   YYJSON_READ_ALLOW_INVALID_UNICODE lets raw invalid bytes through (an encoded surrogate
//   ED A0 80, overlong forms), so jcs_serialize checks every string and name again itself.
// - Nesting deeper than JCS_MAX_DEPTH arrays/objects is Errc::Format.
// Errors name the offending value by its JSON Pointer (RFC 6901), e.g. "/request/resources/0".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

struct yyjson_val;

namespace cvm::proto {

inline constexpr size_t JCS_MAX_DEPTH = 32;
inline constexpr size_t JCS_DEFAULT_MAX_BYTES = 64 * 1024;

// The canonical JSON text of `value` (borrowed from a yyjson document the caller owns).
Result<std::string> jcs_serialize(yyjson_val* value);

// Parses `text` strictly as RFC 8259 JSON (yyjson without any YYJSON_READ_ALLOW_* flag: no
// comments, trailing commas, NaN/Infinity, BOM or invalid UTF-8; no trailing content) and
// canonicalizes it. Errc::Format when `text` is longer than `max_bytes` (checked before parsing)
// or is not JSON; otherwise the errors of jcs_serialize.
Result<std::string> jcs_canonicalize(std::string_view text, size_t max_bytes = JCS_DEFAULT_MAX_BYTES);

}  // namespace cvm::proto
