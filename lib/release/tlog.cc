// Rekor v1 entries checked offline, as sigstore-js checks them (@sigstore/verify 3.x
// dist/tlog/index.js: verifyTLogInclusion(), verifyTLogBody()) but with no step optional: the
// inclusion proof and its checkpoint are required, the promise is checked when present.
#include "release/tlog.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "base/base64.h"
#include "crypto/digest.h"
#include "proto/json.h"
#include "release/checkpoint.h"
#include "release/merkle.h"

namespace cvm::release {
namespace {

constexpr size_t MAX_BODY_SIZE = 64 * 1024;
constexpr size_t MAX_PROOF_HASHES = 64;  // a tree of 2^63 leaves needs 63
constexpr size_t MAX_CHECKPOINT_SIZE = 8 * 1024;
constexpr size_t MAX_SIGNATURE_SIZE = 1024;
constexpr const char* DSSE_KIND = "dsse";
constexpr const char* DSSE_VERSION = "0.0.1";

// protobuf's JSON mapping (proto3) writes an int64 as a decimal string, reads either form, and
// leaves out a field whose value is the default 0: @sigstore/bundle writes the inclusion proof of
// leaf 0 without "logIndex".
enum class IfAbsent : uint8_t { Error, Zero };

Result<int64_t> int64_member(yyjson_val* object, const char* key, const char* what, IfAbsent if_absent)
{
    yyjson_val* v = yyjson_obj_get(object, key);
    if (!v) {
        if (if_absent == IfAbsent::Zero)
            return int64_t{0};
        return Error::make(Errc::Format, "%s.%s: missing", what, key);
    }
    if (yyjson_is_int(v)) {
        if (yyjson_is_sint(v) && yyjson_get_sint(v) >= 0)
            return yyjson_get_sint(v);
        if (yyjson_is_uint(v) && yyjson_get_uint(v) <= static_cast<uint64_t>(INT64_MAX))
            return static_cast<int64_t>(yyjson_get_uint(v));
        return Error::make(Errc::Format, "%s.%s: expected an integer from 0 to 2^63-1", what, key);
    }
    if (!yyjson_is_str(v))
        return Error::make(Errc::Format, "%s.%s: expected an integer or its decimal string", what, key);
    std::string_view text(yyjson_get_str(v), yyjson_get_len(v));
    if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0') ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return Error::make(Errc::Format, "%s.%s: \"%.*s\" is not a decimal integer from 0 to 2^63-1", what, key,
                           static_cast<int>(std::min<size_t>(text.size(), 24)), text.data());
    uint64_t value = 0;
    for (char c : text)
        value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > static_cast<uint64_t>(INT64_MAX))
        return Error::make(Errc::Format, "%s.%s: %.*s is beyond 2^63-1", what, key, static_cast<int>(text.size()),
                           text.data());
    return static_cast<int64_t>(value);
}

const TransparencyLog* find_log(const TrustedRoot& root, ByteView log_id)
{
    for (const TransparencyLog& log : root.tlogs) {
        if (log_id.size() == log.log_id.size() && std::equal(log_id.begin(), log_id.end(), log.log_id.begin()))
            return &log;
    }
    return nullptr;
}

struct EnvelopeParts {
    Bytes payload;
    Bytes signature;
};

// The payload and the one signature of the envelope the caller already verified.
Result<EnvelopeParts> envelope_parts(std::string_view envelope_json)
{
    auto doc = TRY(proto::JsonDoc::parse(envelope_json, "dsseEnvelope"));
    yyjson_val* root = doc.root();
    if (!yyjson_is_obj(root))
        return Error::make(Errc::Format, "dsseEnvelope: expected a JSON object");
    EnvelopeParts parts;
    parts.payload = TRY(proto::base64_member(root, "payload", "dsseEnvelope", MAX_BODY_SIZE * 16));
    yyjson_val* sigs = TRY(proto::array_member(root, "signatures", "dsseEnvelope", 1));
    if (yyjson_arr_size(sigs) != 1)
        return Error::make(Errc::Format, "dsseEnvelope.signatures: expected exactly one signature");
    parts.signature =
        TRY(proto::base64_member(yyjson_arr_get_first(sigs), "sig", "dsseEnvelope.signatures[0]", MAX_SIGNATURE_SIZE));
    return parts;
}

// {"algorithm": "sha256", "value": <64 lower-case hex>}, as Rekor's dsse 0.0.1 schema
// (sigstore/rekor pkg/types/dsse/v0.0.1/entry.go: Unmarshal()) writes both hashes.
Result<Bytes> sha256_hash_member(yyjson_val* spec, const char* key)
{
    yyjson_val* hash = yyjson_obj_get(spec, key);
    std::string what = std::string("canonicalizedBody.spec.") + key;
    TRY(proto::check_members(hash, what, {"algorithm", "value"}));
    std::string_view algorithm = TRY(proto::string_member(hash, "algorithm", what));
    if (algorithm != "sha256")
        return Error::make(Errc::Unsupported, "%s.algorithm: \"%.*s\", expected \"sha256\"", what.c_str(),
                           static_cast<int>(std::min<size_t>(algorithm.size(), 32)), algorithm.data());
    std::string_view value = TRY(proto::string_member(hash, "value", what));
    auto bytes = from_hex(value);
    if (!bytes || bytes->size() != 32 || to_hex(*bytes) != value)
        return Error::make(Errc::Format, "%s.value: expected 64 lower-case hex digits", what.c_str());
    return *bytes;
}

// The body Rekor wrote for the entry (pkg/types/dsse/v0.0.1/entry.go: Canonicalize()):
//   {"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{...},"payloadHash":{...},
//    "signatures":[{"signature":b64,"verifier":b64(PEM)}]}}
// It must be about this envelope: its payload's hash, its one signature, the release key.
// envelopeHash is Rekor's hash of the envelope text the client uploaded, whose member order is the
// client's (Go's struct order for cosign, protobuf's for sigstore-js) and is not in the bundle; like
// sigstore-js (verifyDSSE001TLogBody) we check its form only: the payload hash and the signature
// over PAE(payloadType, payload) already tie the entry to every byte of this envelope that counts.
Result<void> check_body(ByteView body, const std::string& kind, const std::string& version,
                        std::string_view envelope_json, const PublicKey& release_key)
{
    if (kind != DSSE_KIND || version != DSSE_VERSION)
        return Error::make(Errc::Unsupported, "kindVersion: %s %s, expected %s %s", kind.c_str(), version.c_str(),
                           DSSE_KIND, DSSE_VERSION);
    std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
    auto doc = TRY(proto::JsonDoc::parse(text, "canonicalizedBody"));
    yyjson_val* root = doc.root();
    TRY(proto::check_members(root, "canonicalizedBody", {"apiVersion", "kind", "spec"}));
    std::string_view body_kind = TRY(proto::string_member(root, "kind", "canonicalizedBody"));
    std::string_view body_version = TRY(proto::string_member(root, "apiVersion", "canonicalizedBody"));
    if (body_kind != kind || body_version != version)
        return Error::make(Errc::Format, "canonicalizedBody: kind %.*s apiVersion %.*s, but kindVersion says %s %s",
                           static_cast<int>(std::min<size_t>(body_kind.size(), 32)), body_kind.data(),
                           static_cast<int>(std::min<size_t>(body_version.size(), 32)), body_version.data(),
                           kind.c_str(), version.c_str());
    yyjson_val* spec = yyjson_obj_get(root, "spec");
    TRY(proto::check_members(spec, "canonicalizedBody.spec", {"envelopeHash", "payloadHash", "signatures"}));
    TRY(sha256_hash_member(spec, "envelopeHash"));
    Bytes payload_hash = TRY(sha256_hash_member(spec, "payloadHash"));

    EnvelopeParts envelope = TRY(envelope_parts(envelope_json));
    auto expected_hash = crypto::Sha256::of(envelope.payload);
    if (!std::equal(expected_hash.begin(), expected_hash.end(), payload_hash.begin(), payload_hash.end()))
        return Error::make(Errc::Crypto, "canonicalizedBody.spec.payloadHash: %s, but the envelope's payload has %s",
                           to_hex(payload_hash).substr(0, 16).c_str(), to_hex(expected_hash).substr(0, 16).c_str());

    yyjson_val* sigs = TRY(proto::array_member(spec, "signatures", "canonicalizedBody.spec", 16));
    if (yyjson_arr_size(sigs) != 1)
        return Error::make(Errc::Format,
                           "canonicalizedBody.spec.signatures: %zu entries, expected 1 (the envelope has 1)",
                           yyjson_arr_size(sigs));
    yyjson_val* sig = yyjson_arr_get_first(sigs);
    constexpr const char* SIG_WHAT = "canonicalizedBody.spec.signatures[0]";
    TRY(proto::check_members(sig, SIG_WHAT, {"signature", "verifier"}));
    Bytes signature = TRY(proto::base64_member(sig, "signature", SIG_WHAT, MAX_SIGNATURE_SIZE));
    if (signature != envelope.signature)
        return Error::make(Errc::Crypto, "%s.signature: not the envelope's signature", SIG_WHAT);
    Bytes verifier_pem = TRY(proto::base64_member(sig, "verifier", SIG_WHAT, 8 * 1024));
    auto verifier =
        PublicKey::parse_pem(std::string_view(reinterpret_cast<const char*>(verifier_pem.data()), verifier_pem.size()));
    if (!verifier.ok())
        return verifier.release_error().prefix("%s.verifier", SIG_WHAT);
    if (verifier->spki_der() != release_key.spki_der())
        return Error::make(Errc::Crypto, "%s.verifier: key %.16s..., expected the release key %.16s...", SIG_WHAT,
                           verifier->hint().c_str(), release_key.hint().c_str());
    return {};
}

// Rekor's signed entry timestamp (sigstore/rekor pkg/api/entries.go: logEntryFromLeaf(), as
// @sigstore/verify dist/tlog/set.js rebuilds it): the log key's signature over the RFC 8785 JSON
// of {body, integratedTime, logID, logIndex}; members in that (sorted) order, base64 and hex text
// needing no escapes.
Result<void> check_promise(yyjson_val* promise, ByteView body, int64_t integrated_time, int64_t log_index,
                           const TransparencyLog& log)
{
    TRY(proto::check_members(promise, "inclusionPromise", {"signedEntryTimestamp"}));
    Bytes set = TRY(proto::base64_member(promise, "signedEntryTimestamp", "inclusionPromise", MAX_SIGNATURE_SIZE));
    std::string payload = "{\"body\":\"" + base64_encode(body) +
                          "\",\"integratedTime\":" + std::to_string(integrated_time) + ",\"logID\":\"" +
                          to_hex(log.log_id) + "\",\"logIndex\":" + std::to_string(log_index) + "}";
    if (!log.key.verify(as_bytes(payload), set).ok())
        return Error::make(Errc::Crypto,
                           "inclusionPromise.signedEntryTimestamp: not the log's signature over this entry's body, "
                           "integratedTime, logID and logIndex");
    return {};
}

Result<void> check_proof(yyjson_val* proof, ByteView body, const TransparencyLog& log)
{
    constexpr const char* WHAT = "inclusionProof";
    TRY(proto::check_members(proof, WHAT, {"rootHash", "checkpoint"}, {"logIndex", "treeSize", "hashes"}));
    int64_t index = TRY(int64_member(proof, "logIndex", WHAT, IfAbsent::Zero));
    int64_t tree_size = TRY(int64_member(proof, "treeSize", WHAT, IfAbsent::Zero));
    auto root_hash = TRY(proto::base64_fixed_member<32>(proof, "rootHash", WHAT));
    std::vector<crypto::Sha256Digest> hashes;
    yyjson_val* hashes_json = yyjson_obj_get(proof, "hashes");  // absent: an empty path (a tree of one)
    if (hashes_json)
        TRY(proto::array_member(proof, "hashes", WHAT, MAX_PROOF_HASHES));
    size_t i = 0;
    yyjson_val* h = nullptr;
    yyjson_arr_iter it = yyjson_arr_iter_with(hashes_json);
    while (hashes_json && (h = yyjson_arr_iter_next(&it))) {
        auto bytes = yyjson_is_str(h) ? base64_decode_fixed<32>(std::string_view(yyjson_get_str(h), yyjson_get_len(h)))
                                      : std::nullopt;
        if (!bytes)
            return Error::make(Errc::Format, "%s.hashes[%zu]: expected the base64 of 32 bytes", WHAT, i);
        hashes.push_back(*bytes);
        ++i;
    }

    // The checkpoint first: it is what the log signed, so the proof is checked against it.
    yyjson_val* checkpoint_json = yyjson_obj_get(proof, "checkpoint");
    TRY(proto::check_members(checkpoint_json, "inclusionProof.checkpoint", {"envelope"}));
    std::string_view envelope = TRY(proto::string_member(checkpoint_json, "envelope", "inclusionProof.checkpoint"));
    if (envelope.size() > MAX_CHECKPOINT_SIZE)
        return Error::make(Errc::Format, "inclusionProof.checkpoint.envelope: %zu bytes, at most %zu", envelope.size(),
                           MAX_CHECKPOINT_SIZE);
    Checkpoint checkpoint = TRY_PREFIX(verify_checkpoint(envelope, log), "inclusionProof.checkpoint.envelope");
    if (checkpoint.tree_size != static_cast<uint64_t>(tree_size))
        return Error::make(Errc::Crypto, "%s.treeSize: %lld, but the signed checkpoint says %llu", WHAT,
                           static_cast<long long>(tree_size), static_cast<unsigned long long>(checkpoint.tree_size));
    if (checkpoint.root_hash != root_hash)
        return Error::make(Errc::Crypto, "%s.rootHash: %.16s..., but the signed checkpoint says %.16s...", WHAT,
                           to_hex(root_hash).c_str(), to_hex(checkpoint.root_hash).c_str());

    if (index >= tree_size)
        return Error::make(Errc::Format, "%s.logIndex: %lld, expected below treeSize %lld", WHAT,
                           static_cast<long long>(index), static_cast<long long>(tree_size));
    TRY_PREFIX(verify_inclusion(rfc6962_leaf_hash(body), static_cast<uint64_t>(index), static_cast<uint64_t>(tree_size),
                                hashes, root_hash),
               "%s.hashes", WHAT);
    return {};
}

}  // namespace

Result<int64_t> verify_tlog_entry(yyjson_val* entry, std::string_view envelope_json, const PublicKey& release_key,
                                  const TrustedRoot& root)
{
    TRY(proto::check_members(entry, "tlogEntry", {"logId", "kindVersion", "canonicalizedBody"},
                             {"logIndex", "integratedTime", "inclusionPromise", "inclusionProof"}));
    int64_t log_index = TRY(int64_member(entry, "logIndex", "tlogEntry", IfAbsent::Zero));
    int64_t integrated_time = TRY(int64_member(entry, "integratedTime", "tlogEntry", IfAbsent::Zero));

    yyjson_val* log_id_json = yyjson_obj_get(entry, "logId");
    TRY(proto::check_members(log_id_json, "logId", {"keyId"}));
    auto log_id = TRY(proto::base64_fixed_member<32>(log_id_json, "keyId", "logId"));
    const TransparencyLog* log = find_log(root, log_id);
    // Crypto and Policy, as every refusal of the entry: the bundle is rejected evidence (cvm exit
    // 1), not bad input. Nothing the root trusts vouches for an entry of an unknown log.
    if (!log)
        return Error::make(Errc::Crypto, "logId.keyId: %s is not a log of the trusted root", to_hex(log_id).c_str());
    // @sigstore/verify dist/trust/filter.js: filterTLogAuthorities(), start <= time <= end.
    if (integrated_time < log->valid_from || (log->valid_until && integrated_time > *log->valid_until))
        return Error::make(Errc::Policy, "integratedTime: %lld is outside the validity of log %s (from %lld%s%s)",
                           static_cast<long long>(integrated_time), log->base_url.c_str(),
                           static_cast<long long>(log->valid_from), log->valid_until ? " to " : "",
                           log->valid_until ? std::to_string(*log->valid_until).c_str() : "");

    yyjson_val* kv = yyjson_obj_get(entry, "kindVersion");
    TRY(proto::check_members(kv, "kindVersion", {"kind", "version"}));
    std::string kind(TRY(proto::string_member(kv, "kind", "kindVersion")).substr(0, 32));
    std::string version(TRY(proto::string_member(kv, "version", "kindVersion")).substr(0, 32));

    Bytes body = TRY(proto::base64_member(entry, "canonicalizedBody", "tlogEntry", MAX_BODY_SIZE));

    // sigstore-js accepts a promise alone; a promise is only the log's word that it will include
    // the entry, so here the proof is required.
    yyjson_val* proof = yyjson_obj_get(entry, "inclusionProof");
    if (!proof)
        return Error::make(Errc::Policy, "inclusionProof: missing (an inclusion promise alone is not an inclusion)");
    TRY(check_proof(proof, body, *log));
    if (yyjson_val* promise = yyjson_obj_get(entry, "inclusionPromise"))
        TRY(check_promise(promise, body, integrated_time, log_index, *log));
    TRY(check_body(body, kind, version, envelope_json, release_key));
    return integrated_time;
}

}  // namespace cvm::release
