// A transparency log made in the tests (tlog, checkpoint and Merkle tests): trees by RFC 6962's
// recursive definitions (independent of the iterative verifier under test), checkpoints in Rekor
// v1's signed-note form, signed entry timestamps, and tlogEntries[] JSON for DSSE envelopes, each
// part settable so a test can break exactly one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crypto/digest.h"
#include "release/keys.h"
#include "release/tlog.h"

namespace cvm::test {

// MTH(D[n]) and PATH(m, D[n]) of RFC 6962 §2.1 and §2.1.1, recursively, as the RFC writes them.
crypto::Sha256Digest mth(std::span<const Bytes> leaves);
std::vector<crypto::Sha256Digest> audit_path(size_t m, std::span<const Bytes> leaves);

// `count` distinct leaves of varying length.
std::vector<Bytes> sample_leaves(size_t count);

// A signed note line "— <name> base64(hint ‖ signature over `note`)" (with its newline).
std::string signature_line(std::string_view note, const release::SigningKey& key, std::string_view name,
                           std::span<const uint8_t> hint);

class TestLog {
public:
    static constexpr const char* HOST = "rekor.example.dev";
    static constexpr int64_t VALID_FROM = 1600000000;

    TestLog();
    const release::SigningKey& key() const { return m_key; }
    std::array<uint8_t, 32> log_id() const;
    release::TransparencyLog tlog() const;
    release::TrustedRoot root() const;

    // The checkpoint of a tree of `size` leaves with `root`, signed by the log, as Rekor v1 writes
    // it; `signer` and `name` replace the log's key and name.
    std::string checkpoint(uint64_t size, const crypto::Sha256Digest& root, const release::SigningKey* signer = nullptr,
                           std::string_view name = HOST) const;

    // The log's signature over the canonical {body, integratedTime, logID, logIndex}.
    Bytes signed_entry_timestamp(ByteView body, int64_t integrated_time, int64_t log_index) const;

private:
    release::SigningKey m_key;
};

// A DSSE envelope over `payload` signed by `key`: its JSON as a bundle carries it (canonical).
struct Envelope {
    std::string payload;
    Bytes signature;
    std::string json() const;
};
Envelope sign_envelope(std::string payload, const release::SigningKey& key);

// The body Rekor logs for `envelope` (dsse 0.0.1, canonical JSON), with `verifier` as its key.
std::string rekor_body(const Envelope& envelope, const release::PublicKey& verifier);

// The members of a tlogEntries[] element, as text and numbers; json() writes them as
// @sigstore/bundle does (int64 as strings).
struct EntryParts {
    int64_t log_index{31337};
    std::string log_id;  // base64
    std::string kind{"dsse"};
    std::string version{"0.0.1"};
    int64_t integrated_time{TestLog::VALID_FROM + 1000};
    std::optional<std::string> set;  // base64; nullopt: no inclusionPromise
    bool has_proof{true};
    uint64_t proof_index{0};
    uint64_t tree_size{1};
    std::string root_hash;  // base64
    std::vector<std::string> hashes;
    std::string checkpoint;
    std::string body;  // the canonicalized body's text

    std::string json() const;
};

// `body` as leaf `index` of a tree of `tree_size` leaves of `log`, with the checkpoint and SET.
EntryParts make_entry(const TestLog& log, const std::string& body, size_t tree_size, size_t index);

}  // namespace cvm::test
