// The text side of PEM (RFC 7468) shared by certificates (pem.cc) and CRLs (crl.cc): which inputs
// are PEM, what counts as whitespace around a block, and the bounded base64 decoding of a block's
// body. Internal to the verify layer; which labels and how many blocks are allowed stays with
// each caller.
#pragma once

#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::verify {

// The whitespace RFC 7468 allows between and around blocks.
bool pem_space(char c);

// True when `input`, after leading whitespace, starts with "-----BEGIN": the caller parses PEM;
// otherwise it parses DER.
bool looks_like_pem(ByteView input);

// The base64 body of one block, decoded: 1 to `max_size` bytes, else Errc::Format naming `what`
// ("CERTIFICATE block 2", "X509 CRL block") and the size or the base64 error.
Result<Bytes> decode_pem_body(std::string_view body, size_t max_size, const std::string& what);

}  // namespace cvm::verify
