// The cvmkb/1 heartbeat (docs/cvmkb-1.md §9): a running agent proves again, with fresh evidence,
// that its VM is still the one the broker released to, and learns whether the broker accepts it.
//
//   POST /cvmkb/v1/challenge                      -> nonce, as for attest
//   POST /cvmkb/v1/heartbeat {"nonce", "pubkey", "report", "certs"?,
//                             "request": {"heartbeat": {"interval": SECONDS}}}
//   report_data = the cvmkb/1 binding (binding.h) of nonce, pubkey and this request
//
// The request object is not a resource request: the attest parser refuses it (no "resources")
// and the heartbeat parser refuses a resource request (no "heartbeat"), and REPORT_DATA binds
// the request's hash, so evidence made for one can never be presented as the other. A heartbeat
// answer never carries a secret.
//
// The answer, accepted or refused, is the broker's signed verdict on exactly the body it received:
//
//   {"verdict": V, "sig": b64(Ed25519(SHA-512("cvmkb/1 heartbeat verdict" || 0x00 ||
//                                    u16be(32) || SHA-256(request body) ||
//                                    u16be(32) || SHA-256(JCS(V)))))}
//   V = {"accepted": true, "interval", "measurement", "report_id", "time"}
//     | {"accepted": false, "error": {"code", "claim"?, "detail", "expected"?, "got"?}}
//
// so a verdict cannot be forged, replayed from an earlier heartbeat (the body holds a fresh
// nonce), or provoked by altering the request in transit (the agent hashes what it sent).
// Requests too malformed to be judged get an ordinary unsigned error object (messages.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "proto/binding.h"
#include "proto/keys.h"
#include "proto/messages.h"

namespace cvm::proto {

inline constexpr std::string_view HEARTBEAT_PATH = "/cvmkb/v1/heartbeat";
inline constexpr std::string_view HEARTBEAT_VERDICT_TAG = "cvmkb/1 heartbeat verdict";
// The interval an agent may declare: at least 10 s (a faster loop only loads the broker and the
// PSP), at most a day.
inline constexpr int64_t MIN_HEARTBEAT_INTERVAL = 10;
inline constexpr int64_t MAX_HEARTBEAT_INTERVAL = 86400;

struct HeartbeatRequest {
    Nonce nonce{};
    X25519PublicKey pubkey{};
    Bytes report;              // REPORT_SIZE bytes
    std::vector<Bytes> certs;  // DER, optional
    int64_t interval{0};       // seconds until the next heartbeat, as the agent declares it
    std::string canonical_request;
};
// The canonical "request" member of a heartbeat of `interval` seconds; Errc::Format when the
// interval is outside [MIN_HEARTBEAT_INTERVAL, MAX_HEARTBEAT_INTERVAL].
Result<std::string> canonical_heartbeat_request(int64_t interval);
std::string serialize_heartbeat_request(const HeartbeatRequest& request);
// Errc::Format naming "heartbeat.<member>" as messages.h's parsers do.
Result<HeartbeatRequest> parse_heartbeat_request(std::string_view body);

struct HeartbeatVerdict {
    bool accepted{false};
    // Accepted: what the broker recorded.
    int64_t interval{0};
    std::string measurement;  // hex
    std::string report_id;    // hex
    int64_t time{0};          // the broker's clock, seconds since the epoch
    // Refused: the error object (its `retryable` and `simulated` members are not part of V).
    std::optional<ErrorBody> refusal;
};

// SHA-512 of the tagged construction above: what `sig` covers.
std::array<uint8_t, 64> heartbeat_verdict_digest(ByteView request_body, std::string_view canonical_verdict);

// The signed answer to `request_body`; `simulated` is added unsigned, as in attest answers.
Result<std::string> serialize_heartbeat_answer(const Ed25519KeyPair& broker, ByteView request_body,
                                               const HeartbeatVerdict& verdict, bool simulated);

// Checks the signature with the pinned `broker` key over `request_body` (the exact bytes the
// agent sent) before reading anything else: Errc::Crypto "heartbeat verdict signature ..." when
// it does not verify, Errc::Format when the answer is not a heartbeat answer.
Result<HeartbeatVerdict> open_heartbeat_answer(const Ed25519PublicKey& broker, ByteView request_body,
                                               std::string_view answer);

}  // namespace cvm::proto
