// The cvmkb/1 messages (docs/cvmkb-1.md §5-§7), one definition shared by the agent (client) and
// the broker (server). Parsers take untrusted text and check everything a message defines:
// members (unique, known, present), types, base64 canonical and of the right size, list bounds.
// They fail with Errc::Format naming "<message>.<member>". Serializers write compact JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "proto/binding.h"
#include "proto/errors.h"
#include "proto/hpke.h"
#include "proto/keys.h"

namespace cvm::proto {

inline constexpr std::string_view CHALLENGE_PATH = "/cvmkb/v1/challenge";
inline constexpr std::string_view ATTEST_PATH = "/cvmkb/v1/attest";
// The RA-TLS transport (docs/cvmkb-1.md, "The RA-TLS transport"): the evidence travels in the
// agent's TLS client certificate instead of the body.
inline constexpr std::string_view ATTEST_RATLS_PATH = "/cvmkb/v1/attest-ratls";
inline constexpr std::string_view JSON_TYPE = "application/json";

inline constexpr size_t REPORT_SIZE = 1184;
inline constexpr size_t MAX_CERTS = 4;  // VCEK or VLEK, ASK or ASVK, ARK, and one spare
inline constexpr size_t MAX_CERT_BYTES = 16 * 1024;
inline constexpr size_t MAX_RESOURCES = 64;
inline constexpr size_t MAX_RESOURCE_NAME = 64;
inline constexpr size_t MAX_CIPHERTEXT = 1 << 20;
inline constexpr size_t MAX_MESSAGE_BYTES = 64 * 1024;  // attest request; answers are bounded by the ciphertext

// Resource and secret names: 1 to 64 of [A-Za-z0-9_.-], not starting with '.', so that a name is
// always a safe file name under /run/secrets and needs no escaping anywhere.
bool valid_resource_name(std::string_view name);
// A Trustee KBS resource path "<repository>/<type>/<tag>": three valid_resource_name segments
// (Trustee accepts segments of [A-Za-z0-9_-] followed by [A-Za-z0-9_.-]; this is that, bounded).
bool valid_kbs_path(std::string_view path);
// Environment variable names a secret may be exported under: [A-Z_][A-Z0-9_]*, at most 128.
bool valid_env_name(std::string_view name);

// --- challenge ---------------------------------------------------------------------------------

struct Challenge {
    Nonce nonce{};
    int64_t expires_in{0};  // seconds
};
std::string serialize_challenge(const Challenge& challenge);
Result<Challenge> parse_challenge(std::string_view body);
// The challenge request's body: empty or "{}" (an object with no members).
Result<void> check_challenge_request(std::string_view body);

// --- attest ------------------------------------------------------------------------------------

// The state of a data volume's disk as the agent found it before opening it (docs/cvmkb-1.md
// §3.3), reported inside the attested request so that the broker can refuse a disk older than
// the one it last released the volume's key for (VOLUME_ROLLBACK).
enum class VolumeState : uint8_t { Blank, Formatting, Ready };  // "blank" "formatting" "ready"
std::string_view volume_state_name(VolumeState state);

inline constexpr uint64_t MAX_VOLUME_GENERATION = (uint64_t{1} << 53) - 1;  // exact in every JSON reader

struct VolumeReport {
    std::string name;  // the [[volume]] resource it is opened with (valid_resource_name)
    VolumeState state{VolumeState::Blank};
    uint64_t generation{0};  // the header token's; 0 when blank, or ready without a token
    std::string uuid;        // the header's, "" when blank: lower-case 8-4-4-4-12 hex, as LUKS2 keeps it
    bool operator==(const VolumeReport&) const = default;
};

struct AttestRequest {
    Nonce nonce{};
    X25519PublicKey pubkey{};
    Bytes report;              // REPORT_SIZE bytes
    std::vector<Bytes> certs;  // DER, optional
    std::vector<std::string> resources;
    std::vector<VolumeReport> volumes;  // from the "request" member; empty when it has none
    std::string canonical_request;      // the RFC 8785 text of the "request" member, as hashed
};
// Builds the "request" member {"resources": [...], "volumes": [...]} and returns its canonical
// text; "volumes" is left out when empty, so a request without volumes hashes as it always did.
// Errc::Format, naming the member, for anything the parsers below would refuse: an invalid or
// repeated resource name, a volume not among the resources or reported twice, a generation above
// MAX_VOLUME_GENERATION, a uuid that is not a lower-case 8-4-4-4-12 UUID, or a state inconsistent
// with its generation and uuid (blank: generation 0 and uuid ""; formatting: generation at least
// 1; ready: any generation, 0 for a LUKS2 volume without the agent's token, which it adopts).
Result<std::string> canonical_request(const std::vector<std::string>& resources,
                                      const std::vector<VolumeReport>& volumes = {});
std::string serialize_attest_request(const AttestRequest& request);
Result<AttestRequest> parse_attest_request(std::string_view body);

// The attest-ratls message: an attest request without its evidence, which is in the client
// certificate of the mutual TLS connection it arrives on. Errors name "attest-ratls.<member>".
struct AttestRatlsRequest {
    Nonce nonce{};
    X25519PublicKey pubkey{};
    std::vector<std::string> resources;
    std::vector<VolumeReport> volumes;  // as AttestRequest's
    std::string canonical_request;      // as AttestRequest's
};
std::string serialize_attest_ratls_request(const AttestRatlsRequest& request);
Result<AttestRatlsRequest> parse_attest_ratls_request(std::string_view body);

// The broker's answer: HPKE-sealed release, signed over the transcript.
struct AttestAnswer {
    X25519PublicKey enc{};
    Bytes ct;
    Ed25519Signature sig{};
    bool simulated{false};  // informational (not signed): the evidence came from the simulator
};
std::string serialize_attest_answer(const AttestAnswer& answer);
Result<AttestAnswer> parse_attest_answer(std::string_view body);

// --- errors ------------------------------------------------------------------------------------

struct ErrorBody {
    ErrorCode code{ErrorCode::Internal};
    std::string claim;                  // the failing claim ("policy.measurement"), or empty
    std::vector<std::string> expected;  // what would have passed
    std::string got;                    // what the evidence had
    std::string detail;                 // one human-readable sentence
    bool retryable{false};
    bool simulated{false};
};
// An error object with just a code (retryable as the code says) and a detail sentence.
ErrorBody error_body(ErrorCode code, std::string detail);
std::string serialize_error(const ErrorBody& error);
// Unknown codes are refused (Errc::Format): an agent must not guess what a code means.
Result<ErrorBody> parse_error(std::string_view body);

}  // namespace cvm::proto
