// Our LUKS2 token and the header HMAC it carries (luks2_volume.h: the profile's "tokens" and
// AUTHENTICATION).
//
// LUKS2 tokens are free-form JSON objects with a "type" and a "keyslots" array (LUKS2 On-Disk
// Format Specification 1.1, §3.4 "Tokens"); cryptsetup keeps and dumps a token of a type it does
// not know (lib/luks2/luks2_json_metadata.c: hdr_validate_tokens() checks only those two
// members). Ours: {"type":"cvminit","keyslots":[],"state":...,"generation":...,
// "derivation"?:{...},"hmac":...}, members in that order.
//
// Internal to storage/luks2_*; luks2_volume.h is the interface.
#pragma once

#include <yyjson.h>

#include <string>
#include <string_view>

#include "base/result.h"
#include "storage/luks2_volume.h"

namespace cvm::storage::luks2 {

constexpr std::string_view TOKEN_TYPE = "cvminit";
constexpr std::string_view OLD_FORMATTING_TOKEN_TYPE = "cvminit-formatting";  // cvminit before issue 17
constexpr std::string_view HMAC_INFO = "cvminit luks2 header/1";

// Reads the "tokens" object into v.formatting, generation, derivation and hmac, or, for an empty
// one, sets v.adopt and leaves them as they are (ready, 0, none, zeros); every refusal names the
// token by its id and type, the member, the value found and the value expected.
Result<void> parse_tokens(yyjson_val* tokens, Volume& v);

// The "tokens" object's text for `v`; without the "hmac" member when !with_hmac (the form the
// HMAC covers); "{}" when v.adopt.
std::string write_tokens(const Volume& v, bool with_hmac);

}  // namespace cvm::storage::luks2
