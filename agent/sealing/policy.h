// Sealing policies (issue 17; the names are A3S Box's): which SNP derived key a sealed blob or a
// hybrid volume passphrase is bound to. Each policy is one SNP_GET_DERIVED_KEY request
// (DerivedKeyRequest, agent/providers/report_provider.h):
//
//   policy                root  GUEST_FIELD_SELECT                          lost with
//   measurement-and-chip  VCEK  GUEST_POLICY | MEASUREMENT | TCB_VERSION    the chip, and every image change
//   measurement-only      VLEK  GUEST_POLICY | MEASUREMENT | TCB_VERSION    every image change (needs a VLEK)
//   chip-only             VCEK  TCB_VERSION                                 the chip
//
// VMPL 0 and GUEST_SVN 0 always. VCEK is unique to one chip; VLEK is a cloud provider's key,
// shared by its chips, so measurement-only data moves with the launch across that provider's
// machines, and only there (a platform without a VLEK refuses it in the provider). `tcb_version`
// is the raw COMMITTED_TCB the caller read from a report when sealing: it is recorded with what
// was sealed and asked for again when unsealing, so a firmware update does not lose the data,
// while a platform whose COMMITTED_TCB is below it (a firmware rollback) is refused by the
// provider.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"
#include "providers/report_provider.h"

namespace cvm::agent::sealing {

enum class Policy : uint8_t { MeasurementAndChip, MeasurementOnly, ChipOnly };

inline constexpr Policy ALL_POLICIES[] = {Policy::MeasurementAndChip, Policy::MeasurementOnly, Policy::ChipOnly};

// "measurement-and-chip", "measurement-only", "chip-only" (exactly; no other spelling).
std::optional<Policy> parse_policy(std::string_view name);
std::string_view policy_name(Policy policy);

// The derived-key request of `policy` at `tcb_version` (see the table above).
DerivedKeyRequest request_for(Policy policy, uint64_t tcb_version);

// The policy whose request has this root key and field selection at any TCB version; nullopt
// when no policy asks for that pair.
std::optional<Policy> policy_of(RootKey root, uint64_t field_select);

// A hybrid data volume's LUKS2 keyslot passphrase: neither the broker's key alone nor the chip's
// derived key alone gives it.
//
//   passphrase = HKDF-SHA256(IKM  = broker_key || derived_key,
//                            salt = "" (RFC 5869: HashLen zero bytes),
//                            info = "cvminit hybrid volume/1" || 0x00 || uuid,
//                            L    = 64)
//
// `uuid` is the LUKS2 header's volume UUID as canonical lower-case text
// ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", 36 ASCII bytes, no NUL). The 64 bytes are the
// passphrase itself (binary; `cryptsetup open --key-file` takes them as they are).
// Errc::Format naming "volume UUID" when `uuid` is not that text, or "broker volume key" when
// `broker_key` is empty or longer than MAX_BROKER_KEY; the IKM buffer is wiped on every path.
inline constexpr size_t HYBRID_PASSPHRASE_SIZE = 64;
inline constexpr size_t MAX_BROKER_KEY = 1024;
inline constexpr std::string_view HYBRID_INFO_TAG = "cvminit hybrid volume/1";
Result<SecretBytes> hybrid_passphrase(ByteView broker_key, const DerivedKey& derived, std::string_view uuid);

// HKDF-SHA256 (RFC 5869) with an empty salt, `out.size()` bytes (at most 255 * 32) into `out`;
// `ikm` and `info` as given. Errc::Crypto if mbedTLS fails (it does not for these sizes).
Result<void> hkdf_sha256(ByteView ikm, ByteView info, std::span<uint8_t> out);

}  // namespace cvm::agent::sealing
