// The checks a derived-key request passes before it reaches the firmware, shared by the
// /dev/sev-guest provider and the simulated one (report_provider.h, ReportProvider::derive_key).
//
// Why before: on hardware a request the firmware cannot take may cost the VMPCK, and a STATUS
// refusal tells the caller nothing it could not have been told by name. So every field is
// checked against a fresh report of this guest, taken with REPORT_DATA bound to the request
// (key_request_report_data), before MSG_KEY_REQ is sent. The same checks the firmware makes
// (AMD SEV-SNP ABI 56860, "MSG_KEY_REQ"; ../shared/reference/hardware-abi.md "SNP_GET_DERIVED_KEY"):
//   GUEST_FIELD_SELECT  no bit outside FIELD_ALL (bit 6 needs message version 2, which Linux
//                       cannot send: it copies exactly 32 bytes of request)
//   VMPL                the report's VMPL <= vmpl <= 3
//   GUEST_SVN           <= the report's GUEST_SVN (the ID block's; 0 without one)
//   TCB_VERSION         <= the report's COMMITTED_TCB in every component (the product's layout,
//                       no bit outside it)
//   ROOT_KEY_SELECT     VLEK only when the report's SIGNING_KEY is VLEK (one is installed)
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "base/result.h"
#include "providers/report_provider.h"
#include "snp/report.h"

namespace cvm::agent {

inline constexpr size_t KEY_REQUEST_SIZE = 32;  // sizeof(struct snp_derived_key_req)

// The request's own bits, before anything is asked of any device: a RootKey that names VCEK or
// VLEK, no GUEST_FIELD_SELECT bit outside FIELD_ALL, VMPL at most 3. Errc::Config naming the
// field, the value found and the values allowed.
Result<void> check_key_request(const DerivedKeyRequest& request);

// The 32 bytes of MSG_KEY_REQ for `request` (struct snp_derived_key_req, little-endian):
// ROOT_KEY_SELECT with KEY_SEL 1 (VCEK) or 2 (VLEK) and bit 0 clear (never the VMRK, never
// "VLEK if installed", so the key's root is what was asked), rsvd zero, then the fields.
std::array<uint8_t, KEY_REQUEST_SIZE> key_request_bytes(const DerivedKeyRequest& request);

// The REPORT_DATA of the report taken before a key: SHA-512("cvminit derived-key/1" || 0x00 ||
// key_request_bytes(request)), so that report says what was asked.
ReportData key_request_report_data(const DerivedKeyRequest& request);

// Every field of `request` against `report`, a fresh report of this guest (see the table above).
// Errc::Config naming the field, the value asked and the value the report allows; a VLEK root on
// a VCEK-signed platform is Errc::Unsupported and says that no VLEK is installed.
Result<void> check_key_request_against(const DerivedKeyRequest& request, const snp::AttestationReport& report);

// MSG_KEY_RSP STATUS: ok for 0, else Errc::Policy naming it (0x16 INVALID_PARAM, 0x27
// INVALID_KEY) and `source`: the firmware answered and refused, the VMPCK is intact, so the
// workload API's gate stays open (a blob's recorded TCB_VERSION can make the firmware refuse).
Result<void> check_key_status(uint32_t status, const char* source);

// Errc::Crypto naming `source` when the 32 bytes are all zero: no firmware answers a successful
// MSG_KEY_REQ with that, and it must never become a key.
Result<void> check_key_not_zero(std::span<const uint8_t, DERIVED_KEY_SIZE> key, const char* source);

}  // namespace cvm::agent
