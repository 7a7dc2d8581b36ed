// Every REPORT_DATA the agent ever asks the platform for is one of these bindings, each under its
// own versioned tag (DESIGN.md §4, §10; docs/agent-api.md):
//
//   cvmkb/1 report-data        the agent's own key retrieval (proto/binding.h)
//   cvmkb/1 ra-tls             the agent's own RA-TLS client certificate for the broker:
//                              SPKI and the cvmkb/1 report-data of the same request
//   cvminit agent-key/1        the agent's per-boot certificate-signing key (its SPKI)
//   cvminit workload/1 user-data   POST /v1/evidence: the workload's user data
//   cvminit workload/1 ra-tls      POST /v1/tls-certificate: the workload key's SPKI and nonce
//   cvminit init-data/1        the agent's check of its init-data document against HOST_DATA
//                              (agent/stage_initdata.cc): the digest algorithm's name and the
//                              document's full digest; the report stays in the VM
//
//   REPORT_DATA = SHA-512(tag || 0x00 || u16be(len) || field || u16be(len) || field ...)
//
// No tag contains 0x00 and no tag is a prefix of another followed by 0x00, so the hash inputs of
// two bindings never coincide: nothing the workload asks for through the agent can equal
// REPORT_DATA a cvmkb/1 broker accepts for the agent's own resources, and a verifier that knows
// which binding it expects can recompute it from public values.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "base/bytes.h"
#include "proto/binding.h"

namespace cvm::proto {

inline constexpr std::string_view RATLS_BROKER_TAG = "cvmkb/1 ra-tls";
inline constexpr std::string_view AGENT_KEY_TAG = "cvminit agent-key/1";
inline constexpr std::string_view WORKLOAD_USER_DATA_TAG = "cvminit workload/1 user-data";
inline constexpr std::string_view WORKLOAD_RATLS_TAG = "cvminit workload/1 ra-tls";
inline constexpr std::string_view INITDATA_TAG = "cvminit init-data/1";

inline constexpr size_t MAX_USER_DATA = 64;  // POST /v1/evidence's user_data, bytes
inline constexpr size_t MAX_RATLS_NONCE = 64;

// SHA-512(tag || 0x00 || for each field: u16be(size) || field). Fields are at most 65535 bytes
// (callers bound them far lower); the tags are the constants above.
ReportData tagged_report_data(std::string_view tag, std::initializer_list<ByteView> fields);

// POST /v1/evidence: `user_data` is 0..MAX_USER_DATA bytes.
ReportData workload_user_data(ByteView user_data);

// POST /v1/tls-certificate: the DER SubjectPublicKeyInfo of the workload's key and its nonce
// (0..MAX_RATLS_NONCE bytes; empty when the caller gave none).
ReportData workload_ratls(ByteView spki_der, ByteView nonce);

// The agent's init-data check: `algorithm` ("sha256", "sha384", "sha512") and the document's
// full digest with it (32, 48 or 64 bytes).
ReportData initdata_check(std::string_view algorithm, ByteView digest);

// The agent's per-boot signing key.
ReportData agent_key(ByteView spki_der);

// The agent's RA-TLS client certificate for a cvmkb/1 broker: its SPKI and the cvmkb/1
// report_data (binding.h) of the challenge nonce, X25519 key and request it sends with it.
ReportData ratls_broker(ByteView spki_der, const ReportData& cvmkb_report_data);

}  // namespace cvm::proto
