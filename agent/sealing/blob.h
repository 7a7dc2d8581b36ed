// The sealed blob: what POST /v1/seal returns and /v1/unseal opens (docs/agent-api.md). It is
// self-describing and never holds a key: it names the derived-key request that opens it, so
// unsealing asks the provider for exactly what sealing asked for.
//
// clang-format off
//   offset  size   field                                   value
//   0       8      MAGIC                                   "CVMSEAL1"
//   8       2      VERSION (u16le)                         1
//   10      1      AEAD                                    1 AES-256-GCM, 2 ChaCha20-Poly1305
//   11      1      POLICY                                  0 measurement-and-chip, 1 measurement-only, 2 chip-only
//   12      1      ROOT_KEY (KEY_SEL of MSG_KEY_REQ)       1 VCEK, 2 VLEK: the policy's
//   13      3      RESERVED                                zero
//   16      8      FIELD_SELECT (u64le)                    the policy's GUEST_FIELD_SELECT
//   24      4      VMPL (u32le)                            0
//   28      4      GUEST_SVN (u32le)                       0
//   32      8      TCB_VERSION (u64le, raw)                COMMITTED_TCB when sealed
//   40      2      CONTEXT_LEN (u16le)                     1..MAX_CONTEXT
//   42      n      CONTEXT                                 printable ASCII, 0x20..0x7e
//   42+n    12     NONCE                                   random
//   54+n    m+16   CIPHERTEXT || TAG                       m = 0..MAX_PLAINTEXT
// clang-format on
//
//   AEAD key = HKDF-SHA256(IKM = derived key, salt = "", info = "cvminit seal/1" || 0x00 || CONTEXT
//              [|| 0x00 || HOST_DATA: measurement policies, when not all zero], L = 32)
//   AAD      = bytes 0 .. 54+n (every header byte before the ciphertext)
//
// The derived key is the provider's answer to request_for(POLICY, TCB_VERSION)
// (sealing/policy.h); ROOT_KEY, FIELD_SELECT, VMPL and GUEST_SVN must be exactly that request's,
// so a parsed blob always names a request some policy makes. Both AEADs take a 32-byte key and a
// 96-bit nonce (mbedTLS's GCM and ChaCha20-Poly1305, both enabled in its default config); a
// random nonce under a key that is new for every context and derived key bounds the risk of a
// repeated nonce by the birthday bound on 2^96 per (derived key, context), far beyond what a
// rate-limited API can seal.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"
#include "sealing/policy.h"

namespace cvm::agent::sealing {

inline constexpr std::string_view BLOB_MAGIC = "CVMSEAL1";
inline constexpr uint16_t BLOB_VERSION = 1;
inline constexpr size_t MAX_CONTEXT = 256;
inline constexpr size_t MAX_PLAINTEXT = 64 * 1024;
inline constexpr size_t NONCE_SIZE = 12;
inline constexpr size_t TAG_SIZE = 16;
inline constexpr size_t HEADER_FIXED_SIZE = 42;  // MAGIC .. CONTEXT_LEN
inline constexpr size_t MIN_BLOB_SIZE = HEADER_FIXED_SIZE + 1 + NONCE_SIZE + TAG_SIZE;
inline constexpr size_t MAX_BLOB_SIZE = HEADER_FIXED_SIZE + MAX_CONTEXT + NONCE_SIZE + MAX_PLAINTEXT + TAG_SIZE;
inline constexpr std::string_view SEAL_INFO_TAG = "cvminit seal/1";

enum class Aead : uint8_t { Aes256Gcm = 1, ChaCha20Poly1305 = 2 };
std::string_view aead_name(Aead aead);  // "AES-256-GCM", "ChaCha20-Poly1305"

// Errc::Format naming "context" unless `context` is 1..MAX_CONTEXT bytes of printable ASCII.
Result<void> check_context(std::string_view context);

// A parsed blob's header and a view of its ciphertext (valid while the blob's bytes are).
struct ParsedBlob {
    Aead aead{Aead::Aes256Gcm};
    Policy policy{Policy::MeasurementAndChip};
    DerivedKeyRequest request;  // request_for(policy, tcb_version), as recorded
    std::string context;
    std::array<uint8_t, NONCE_SIZE> nonce{};
    ByteView aad;         // bytes 0 .. 54+n
    ByteView ciphertext;  // ciphertext || tag
};

// Parses `blob` through the bounds-checked Reader. Errc::Format naming the field, the value found
// and the value expected for: a short or long blob, MAGIC, VERSION, AEAD, POLICY, ROOT_KEY,
// RESERVED, FIELD_SELECT, VMPL, GUEST_SVN (each against the policy's request), CONTEXT_LEN,
// CONTEXT, and a ciphertext shorter than the tag or longer than MAX_PLAINTEXT plus the tag.
// Nothing is decrypted.
Result<ParsedBlob> parse_blob(ByteView blob);

// Seals `plaintext` (0..MAX_PLAINTEXT bytes) under `derived`, which the caller obtained for
// request_for(policy, tcb_version), with a fresh random nonce. Errc::Format for a bad context or
// an oversized plaintext.
// `launch` is launch_binding()'s answer for this boot.
Result<Bytes> seal(const DerivedKey& derived, Policy policy, uint64_t tcb_version, std::string_view context,
                   ByteView plaintext, Aead aead = Aead::Aes256Gcm, ByteView launch = {});

// The same with the caller's nonce: for tests only (a nonce must never repeat under one key).
Result<Bytes> seal_with_nonce(const DerivedKey& derived, Policy policy, uint64_t tcb_version, std::string_view context,
                              ByteView plaintext, Aead aead, const std::array<uint8_t, NONCE_SIZE>& nonce,
                              ByteView launch = {});

// What the AEAD key binds besides the derived key and the context: for the two measurement
// policies, the launch's HOST_DATA when it is not all zero (an init-data document's digest,
// docs/initdata.md); else nothing. MEASUREMENT does not cover init-data, which the host chooses:
// without this, the host could boot the same image with a document of its own (its broker, its
// settings) and the workload would still open what it sealed under the real one. chip-only binds
// no launch at all. The view points into `host_data`.
ByteView launch_binding(Policy policy, const std::array<uint8_t, 32>& host_data);

// Opens a parsed blob with `derived` (the provider's key for blob.request). The AEAD key is made
// from the caller's `context`, not the recorded one, so a caller that names another context than
// the blob's gets no further than one whose derived key differs. A tag that does not verify is
// Errc::Crypto: "unseal failed: the key derived now does not open this blob (another measurement,
// chip or context?)"; no plaintext is returned then and the buffer is wiped. Errc::Format naming
// "context" when `context` itself is not a valid context.
// `launch` as for seal().
Result<SecretBytes> unseal(const DerivedKey& derived, const ParsedBlob& blob, std::string_view context,
                           ByteView launch = {});

}  // namespace cvm::agent::sealing
