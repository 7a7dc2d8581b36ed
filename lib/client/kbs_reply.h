// Internal to KbsSession (client/kbs_session.h): the pieces of Trustee's KBS replies that the
// session reads, each strict and each failing with a message that names what was wrong and never
// shows a session id, a token or a secret.
//
// Sources (read, not copied): trustee 78962cd kbs/src/error.rs (the problem detail: kbs-types'
// ErrorInformation {"type": "https://github.com/confidential-containers/kbs/errors/<Kind>",
// "detail": "<Display of the error>"}, sent without a Content-Type, status 404 for
// InvalidRequestPath and PluginNotFound and 401 for everything else),
// kbs/src/attestation/session.rs (the cookie: `kbs-session-id`, a simple-form UUID, with an
// Expires attribute), kbs/src/attestation/backend.rs and kbs/src/attestation/mod.rs
// (generate_extra_params: the challenge's extra-params is "" for every TEE but IBM SE).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "net/http.h"

namespace cvm::client::kbs_reply {

inline constexpr std::string_view SESSION_COOKIE = "kbs-session-id";
inline constexpr size_t MAX_COOKIE_VALUE = 256;  // Trustee's are 32 hex digits
inline constexpr size_t MAX_NONCE = 1024;        // Trustee's are 44 (base64 of 32 bytes)
inline constexpr size_t MAX_DETAIL_SHOWN = 120;  // bytes of a problem's detail in an Error
inline constexpr std::string_view ERROR_TYPE_PREFIX = "https://github.com/confidential-containers/kbs/errors/";

// Whether `status` is a success (2xx).
bool is_success(int status);

// The Error for a reply that is not a success: "<step>: HTTP <status> <Kind>: <detail>" when the
// body is Trustee's problem detail, "<step>: HTTP <status> (no problem detail)" otherwise. Kind and
// detail are shown as printable ASCII only (other bytes as '?'), the detail cut at
// MAX_DETAIL_SHOWN bytes. Errc::Unavailable for 5xx, 408 and 429 (a retry may help),
// Errc::Policy for the rest.
Error refusal(std::string_view step, const net::HttpResponse& response);

// "kbs-session-id=<value>" from the reply's Set-Cookie headers (RFC 6265 §4.1.1): exactly one
// cookie of that name whose value is 1 to MAX_COOKIE_VALUE cookie-octets (unquoted); its
// attributes are ignored, cookies of other names too. Errc::Network otherwise, naming the step.
Result<std::string> session_cookie(std::string_view step, const net::Headers& headers);

// The challenge of the auth reply (kbs-types' Challenge): exactly the members `nonce` (a string of
// 1 to MAX_NONCE bytes) and `extra-params`, which must be "" or an object that is empty or selects
// SHA-384 ({"selected-hash-algorithm": "sha384"}, any case, as guest-components reads it); any
// other hash is Errc::Unsupported, since REPORT_DATA is SHA-384 (kbs/tee_key.h). Errc::Format for
// anything else. Returns the nonce.
Result<std::string> parse_challenge(std::string_view body);

}  // namespace cvm::client::kbs_reply
