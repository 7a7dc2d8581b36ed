// PEM armor of one block, in RFC 7468's strict form (§3 "stricttextualmsg"):
//
//   -----BEGIN <label>-----
//   <base64, lines of exactly 64 characters, the last one 1 to 64>
//   -----END <label>-----
//
// Decoding also accepts CRLF line ends and whitespace around the block; it refuses explanatory
// text, headers, blank or over-long lines, a second block, and non-canonical base64 (base64.h).
// Both directions keep the base64 text and the bytes in wiping storage: the DER of a private key
// is key material.
#pragma once

#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"

namespace cvm::proto {

// The bytes inside the single `label` block that is all of `text` (but for surrounding
// whitespace). Errc::Format naming the label and what is wrong.
Result<SecretBytes> pem_decode(std::string_view text, std::string_view label);

// The PEM text of `der` under `label`, ending in a newline.
SecretBytes pem_encode(ByteView der, std::string_view label);

}  // namespace cvm::proto
