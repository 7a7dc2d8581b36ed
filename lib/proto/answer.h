// Sealing and opening the attest answer (docs/cvmkb-1.md §6).
//
// The broker seals the release to the agent's X25519 key with one single-shot HPKE base-mode
// seal (info "cvmkb/1 response", aad = report_data) and signs the transcript
// SHA-512("cvmkb/1 transcript" || report_data || enc || ct) with its Ed25519 key.
// The agent checks the signature with the broker key pinned in its measured command line before
// it opens anything: an answer from anyone else is refused unread.
#pragma once

#include "base/result.h"
#include "base/secret.h"
#include "proto/binding.h"
#include "proto/hpke.h"
#include "proto/keys.h"
#include "proto/messages.h"

namespace cvm::proto {

// Errc::Crypto when the agent's key is unusable (a low-order point).
Result<AttestAnswer> seal_answer(const Ed25519KeyPair& broker, const X25519PublicKey& agent,
                                 const ReportData& report_data, ByteView plaintext);

// Errc::Crypto "answer signature ..." when `sig` is not the pinned broker's signature over the
// transcript (unsigned, signed by another key, or altered), then Errc::Crypto from HPKE when the
// ciphertext was not sealed to `agent` for this report_data. The plaintext is returned in
// wiping storage.
Result<SecretBytes> open_answer(const Ed25519PublicKey& broker, const X25519KeyPair& agent,
                                const ReportData& report_data, const AttestAnswer& answer);

}  // namespace cvm::proto
