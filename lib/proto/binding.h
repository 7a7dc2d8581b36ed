// The cvmkb/1 bindings (docs/cvmkb-1.md §4, §6): what the report's REPORT_DATA commits to, and
// what the broker signs.
//
//   report_data = SHA-512("cvmkb/1 report-data" || 0x00 || u16be(32) || nonce
//                         || u16be(32) || x25519_pub || u16be(32) || SHA-256(canonical request))
//   transcript  = SHA-512("cvmkb/1 transcript" || report_data || enc || ct)
//
// Every variable-length field is length-prefixed and the tags name the protocol version, so no
// two different inputs share an encoding and a later version cannot be confused with this one.
#pragma once

#include <array>
#include <string_view>

#include "base/bytes.h"

namespace cvm::proto {

inline constexpr size_t NONCE_SIZE = 32;
using Nonce = std::array<uint8_t, NONCE_SIZE>;
using ReportData = std::array<uint8_t, 64>;
using RequestHash = std::array<uint8_t, 32>;
using Transcript = std::array<uint8_t, 64>;

inline constexpr std::string_view REPORT_DATA_TAG = "cvmkb/1 report-data";
inline constexpr std::string_view TRANSCRIPT_TAG = "cvmkb/1 transcript";
inline constexpr std::string_view RESPONSE_INFO = "cvmkb/1 response";  // the HPKE info string

// SHA-256 of the canonical (RFC 8785) request JSON text.
RequestHash request_hash(std::string_view canonical_request);

ReportData report_data(const Nonce& nonce, const std::array<uint8_t, 32>& x25519_public, const RequestHash& request);

// The 64 bytes the broker's Ed25519 signature covers; `enc` and `ct` as raw bytes.
Transcript transcript(const ReportData& report_data, ByteView enc, ByteView ct);

}  // namespace cvm::proto
