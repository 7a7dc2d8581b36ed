// Text encodings the measure commands print and read: standard base64 with padding (RFC 4648
// §4), as sev-snp-measure and QEMU's id-block=/id-auth= use.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"

namespace cvm::cli {

std::string base64_encode(ByteView data);

// Strict decoding: standard alphabet, padding required, no whitespace; nullopt otherwise.
std::optional<Bytes> base64_decode(std::string_view text);

}  // namespace cvm::cli
