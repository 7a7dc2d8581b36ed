// The nonce profile of RA-TLS over HTTPS (docs/ratls.md "Freshness: the nonce in SNI"): a client
// that wants a certificate made for it sends its nonce as the TLS server name
//
//   <base32 of the nonce>.nonce.ra-tls.invalid
//
// base32 is RFC 4648 §6's alphabet in lower case without padding, so a nonce of 1..32 bytes is one
// DNS label of at most 52 letters and digits (a label holds 63, RFC 1035 §2.3.4; hex would not
// fit 32 bytes). ".invalid" is reserved never to resolve (RFC 6761 §6.4), so the name cannot be
// anyone's real host name, a resolver or proxy never routes it anywhere, and a server tells a
// nonce from a real name by the suffix alone. The server asks for a certificate whose evidence
// binds that nonce (proto::workload_ratls), for this handshake only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::ratls {

inline constexpr std::string_view SNI_NONCE_SUFFIX = ".nonce.ra-tls.invalid";
inline constexpr size_t MAX_SNI_NONCE = 32;  // bytes: 52 base32 letters, one DNS label

// The server name for `nonce`; Errc::Config when it is empty or longer than MAX_SNI_NONCE.
Result<std::string> sni_for_nonce(ByteView nonce);

// The nonce a server name carries: nullopt when the name does not end in SNI_NONCE_SUFFIX (any
// other host name, or "" for no SNI: no nonce was asked for). Errc::Format, naming what is wrong,
// for a name with the suffix that is not exactly one label of canonical base32 (either case is
// accepted, as DNS names compare case-insensitively; the unused low bits must be zero, so each
// nonce has one name) of 1..MAX_SNI_NONCE bytes.
Result<std::optional<Bytes>> nonce_from_sni(std::string_view server_name);

}  // namespace cvm::ratls
