// DER encoders (ITU-T X.690 §8 and §10) for the certificates cvminit issues: the simulated
// platform's (lib/sim) and the RA-TLS certificates (lib/ratls).
//
// Each function returns one complete element: tag, minimal definite length, content. Elements are
// built inside out and concatenated, which keeps a TBSCertificate readable as the ASN.1 it
// encodes. Only the forms X.509 needs here are provided: low tag numbers, SETs of one element
// (so DER's SET OF ordering never arises), non-negative INTEGERs.
#pragma once

#include <cstdint>
#include <ctime>
#include <initializer_list>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::asn1 {

Bytes element(uint8_t tag, ByteView content);
Bytes concat(std::initializer_list<ByteView> parts);
Bytes sequence(std::initializer_list<ByteView> parts);
Bytes set_of_one(ByteView member);
// [n] EXPLICIT: a constructed context-specific element wrapping `content` (one encoded element).
Bytes explicit_tag(uint8_t n, ByteView content);

Bytes integer(uint64_t value);
// A non-negative INTEGER from its big-endian magnitude (a random serial number): leading zero
// bytes dropped, one 0x00 added when the top bit is set; zero when `magnitude` is all zero.
Bytes integer_from_magnitude(ByteView magnitude);
Bytes boolean(bool value);
Bytes null();
// OBJECT IDENTIFIER from its arcs, e.g. oid({1, 3, 6, 1, 4, 1, 3704, 1, 3, 1}); at least two arcs.
Bytes oid(std::initializer_list<uint32_t> arcs);
Bytes octet_string(ByteView content);
// BIT STRING with `unused_bits` (0..7) unused bits in the last byte.
Bytes bit_string(ByteView content, uint8_t unused_bits = 0);
Bytes utf8_string(std::string_view text);
Bytes printable_string(std::string_view text);
Bytes ia5_string(std::string_view text);

// X.509 Time (RFC 5280 §4.1.2.5): UTCTime "YYMMDDHHMMSSZ" for 1950 through 2049, GeneralizedTime
// "YYYYMMDDHHMMSSZ" from 2050 on. Errc::Config for a time before 1950 or after 9999.
Result<Bytes> x509_time(std::time_t t);

}  // namespace cvm::asn1
