// The workload API's request bodies (docs/agent-api.md), parsed and validated before anything is
// asked of the provider. The bodies come from the workload, which is not trusted with the
// hardware: every member is type-checked, unknown members and duplicates are refused
// (proto/json.h), and every size is bounded. Errors are Errc::Format naming the member, the value
// found and what was expected; the API answers them with 400 "BAD_REQUEST".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"
#include "sealing/blob.h"

namespace cvm::agent::api {

inline constexpr size_t MAX_DNS_NAMES = 16;
inline constexpr size_t MAX_PUBLIC_KEY_PEM = 4096;

// POST /v1/evidence {"user_data": hex of 0..proto::MAX_USER_DATA bytes}
struct EvidenceRequest {
    Bytes user_data;
};
Result<EvidenceRequest> parse_evidence_request(std::string_view body);

// POST /v1/tls-certificate {"public_key": PEM, "dns_names": [...], "nonce"?: hex}
struct TlsCertificateRequest {
    std::string public_key_pem;          // not yet checked: ratls::subject_spki_from_pem does that
    std::vector<std::string> dns_names;  // 1..MAX_DNS_NAMES, each a valid host name
    Bytes nonce;                         // 0..proto::MAX_RATLS_NONCE bytes
};
Result<TlsCertificateRequest> parse_tls_certificate_request(std::string_view body);

// POST /v1/seal {"policy": name, "context": text, "plaintext": base64}
struct SealRequest {
    sealing::Policy policy{sealing::Policy::MeasurementAndChip};
    std::string context;    // sealing::check_context passed
    SecretBytes plaintext;  // 0..sealing::MAX_PLAINTEXT bytes, decoded straight into wiping storage
};
Result<SealRequest> parse_seal_request(std::string_view body);

// POST /v1/unseal {"context": text, "blob": base64}
struct UnsealRequest {
    std::string context;  // sealing::check_context passed
    Bytes blob;           // 1..sealing::MAX_BLOB_SIZE bytes, not yet parsed (sealing::parse_blob)
};
Result<UnsealRequest> parse_unseal_request(std::string_view body);

// ratls::check_dns_name, its message after "dns_names: ".
Result<void> check_dns_name(std::string_view name);

}  // namespace cvm::agent::api
