// The LUKS2 JSON metadata of the strict profile (luks2_volume.h lists it), read and written.
//
// Reading is over yyjson's strict RFC 8259 reader, plus: unique member names at every level, no
// member outside the profile, every value's type and range checked. Errors are Errc::Format, or
// Errc::Unsupported for a LUKS2 feature outside the profile, and read
// `luks2 header: <path> is <found>, expected <expected>` with <path> like segments.0.encryption.
//
// Internal to storage/luks2_*; luks2_volume.h is the interface.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "storage/luks2_volume.h"

namespace cvm::storage::luks2 {

// Validates `json` (the JSON area's text) for a device of `device_size` bytes and returns the
// Volume it describes; seqid, uuid and label come from the binary header and are left empty.
Result<Volume> parse_metadata(std::string_view json, uint64_t device_size);

// The JSON text for `volume`, members in cryptsetup 2.6's order, our token's as luks2_token.h
// lists them; parse_metadata() of it gives `volume` back (but for seqid, uuid and label). This
// text is the profile's canonical form: the only one parse_headers() admits, and (without the
// token's "hmac" member, !with_hmac) the one the HMAC covers. Deterministic: same Volume, same
// bytes.
std::string write_metadata(const Volume& volume, bool with_hmac = true);

}  // namespace cvm::storage::luks2
