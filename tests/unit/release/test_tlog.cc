// verify_tlog_entry (lib/release/tlog.h): a Rekor dsse 0.0.1 entry for the release's envelope,
// in a log made here (tlog_fixture.h) and in the real public-good log (tests/vectors/sigstore),
// and each way an entry can be wrong refused, naming the member. The same refusals against
// entries made by @sigstore/mock's log are in tests/interop/sigstore/mock_tlog.js.
#include <doctest.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "base/base64.h"
#include "base/file.h"
#include "proto/jcs.h"
#include "proto/json.h"
#include "release/tlog.h"
#include "release_fixture.h"
#include "tlog_fixture.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::release;
using test::EntryParts;

namespace {

const test::TestLog& test_log()
{
    static test::TestLog log;
    return log;
}

const test::Envelope& envelope()
{
    static test::Envelope e = test::sign_envelope("{\"release\":1}", test::p256_key());
    return e;
}

std::string good_body()
{
    return test::rekor_body(envelope(), test::p256_key().public_key());
}

Result<int64_t> verify(const std::string& entry_json, const TrustedRoot& root = test_log().root(),
                       const std::string& envelope_json = envelope().json(),
                       const PublicKey& key = test::p256_key().public_key())
{
    auto doc = proto::JsonDoc::parse(entry_json, "entry");
    REQUIRE(doc.ok());
    return verify_tlog_entry(doc->root(), envelope_json, key, root);
}

void refused(const Result<int64_t>& result, const char* expected, Errc code)
{
    REQUIRE_FALSE(result.ok());
    CAPTURE(result.error().message());
    CHECK(result.error().code() == code);
    CHECK(std::string(result.error().message()).find(expected) != std::string::npos);
}

void refused(const EntryParts& entry, const char* expected, Errc code)
{
    refused(verify(entry.json()), expected, code);
}

EntryParts good_entry(size_t tree_size = 13, size_t index = 9)
{
    return test::make_entry(test_log(), good_body(), tree_size, index);
}

}  // namespace

TEST_CASE("an entry verifies as the first, a middle or the last leaf of trees of 1 to 33; integratedTime returned")
{
    // Path walking itself is checked exhaustively in test_merkle.cc; here, the whole entry.
    auto single = verify(good_entry(1, 0).json());
    REQUIRE_MESSAGE(single.ok(), std::string(single.ok() ? "" : single.error().message()));
    CHECK(single.value() == test::TestLog::VALID_FROM + 1000);
    for (size_t n : {2, 3, 7, 8, 9, 13, 31, 32, 33}) {
        for (size_t m : {size_t{0}, n / 2, n - 1}) {
            auto result = verify(good_entry(n, m).json());
            REQUIRE_MESSAGE(result.ok(), "leaf " << m << " of " << n << ": "
                                                 << std::string(result.ok() ? "" : result.error().message()));
        }
    }
}

TEST_CASE("proto3 JSON: a zero logIndex and an empty path may be left out, as @sigstore/bundle writes them")
{
    std::string json = good_entry(1, 0).json();
    json = test::replace_once(json, "\"logIndex\":\"0\",", "");
    json = test::replace_once(json, ",\"hashes\":[]", "");
    CHECK(verify(json).ok());
    // A number instead of the decimal string reads the same.
    CHECK(verify(test::replace_once(good_entry().json(), "\"treeSize\":\"13\"", "\"treeSize\":13")).ok());
}

TEST_CASE("without an inclusion promise the proof suffices; without a proof the entry is refused")
{
    EntryParts e = good_entry();
    e.set.reset();
    CHECK(verify(e.json()).ok());
    e = good_entry();
    e.has_proof = false;
    refused(e, "inclusionProof: missing (an inclusion promise alone is not an inclusion)", Errc::Policy);
}

TEST_CASE("a broken inclusion proof is refused: a hash flipped, one missing or added, another index")
{
    EntryParts e = good_entry();
    for (size_t i = 0; i < e.hashes.size(); ++i) {
        CAPTURE(i);
        EntryParts bad = e;
        Bytes h = *base64_decode(bad.hashes[i]);
        h[5] ^= 0x01;
        bad.hashes[i] = base64_encode(h);
        refused(bad, "inclusionProof.hashes: the audit path from leaf 9 of 13", Errc::Crypto);
    }
    EntryParts shorter = e;
    shorter.hashes.pop_back();
    refused(shorter, "inclusionProof.hashes: 3 hashes, fewer than", Errc::Format);
    EntryParts longer = e;
    longer.hashes.push_back(e.hashes[0]);
    refused(longer, "inclusionProof.hashes: 5 hashes, more than", Errc::Format);
    EntryParts other_index = e;
    other_index.proof_index = 8;
    refused(other_index, "inclusionProof.hashes: the audit path from leaf 8 of 13", Errc::Crypto);
    other_index.proof_index = 13;
    refused(other_index, "inclusionProof.logIndex: 13, expected below treeSize 13", Errc::Format);
    EntryParts other_body = e;  // the proof of another leaf
    other_body.body = test::replace_once(other_body.body, "\"apiVersion\"", "\"apiVersion\" ");
    refused(other_body, "inclusionProof.hashes", Errc::Crypto);
}

TEST_CASE("rootHash and treeSize must be the ones the signed checkpoint names")
{
    EntryParts e = good_entry();
    EntryParts root = e;
    root.root_hash = base64_encode(crypto::Sha256::of(as_bytes("another root")));
    refused(root, "inclusionProof.rootHash: ", Errc::Crypto);
    EntryParts size = e;
    size.tree_size = 14;
    refused(size, "inclusionProof.treeSize: 14, but the signed checkpoint says 13", Errc::Crypto);
    // The proof consistent with a rootHash and treeSize the log never signed.
    std::vector<Bytes> leaves = test::sample_leaves(14);
    leaves[9] = Bytes(e.body.begin(), e.body.end());
    EntryParts forged = e;
    forged.tree_size = 14;
    forged.root_hash = base64_encode(test::mth(leaves));
    forged.hashes.clear();
    for (const auto& h : test::audit_path(9, leaves))
        forged.hashes.push_back(base64_encode(h));
    refused(forged, "inclusionProof.treeSize: 14, but the signed checkpoint says 13", Errc::Crypto);
}

TEST_CASE("a checkpoint signed by another key, under another name, or malformed is refused")
{
    EntryParts e = good_entry();
    auto other = SigningKey::generate(KeyKind::EcdsaP256).release_value();
    auto root = crypto::Sha256::of(as_bytes("x"));
    std::copy_n(base64_decode(e.root_hash)->begin(), 32, root.begin());
    EntryParts by_other = e;
    by_other.checkpoint = test_log().checkpoint(13, root, &other);
    refused(by_other, "inclusionProof.checkpoint.envelope: line 6: not the signature of log rekor.example.dev",
            Errc::Crypto);
    EntryParts other_name = e;
    other_name.checkpoint = test_log().checkpoint(13, root, nullptr, "rekor.example.org");
    refused(other_name, "inclusionProof.checkpoint.envelope: no signature by log", Errc::Crypto);
    EntryParts malformed = e;
    malformed.checkpoint = "not a note";
    refused(malformed, "inclusionProof.checkpoint.envelope: no blank line", Errc::Format);
    EntryParts huge = e;
    huge.checkpoint = std::string(9000, 'a');
    refused(huge, "inclusionProof.checkpoint.envelope: 9000 bytes, at most 8192", Errc::Format);
}

TEST_CASE("an inclusion promise over other data is refused")
{
    EntryParts e = good_entry();
    const ByteView body = as_bytes(e.body);
    EntryParts other_index = e;
    other_index.set = base64_encode(test_log().signed_entry_timestamp(body, e.integrated_time, e.log_index + 1));
    refused(other_index, "inclusionPromise.signedEntryTimestamp: not the log's signature", Errc::Crypto);
    EntryParts moved = e;  // integratedTime changed after the log signed it
    moved.integrated_time += 1;
    refused(moved, "inclusionPromise.signedEntryTimestamp", Errc::Crypto);
    EntryParts by_other = e;
    auto other = SigningKey::generate(KeyKind::EcdsaP256).release_value();
    std::string canonical = "{\"body\":\"" + base64_encode(body) +
                            "\",\"integratedTime\":" + std::to_string(e.integrated_time) + ",\"logID\":\"" +
                            to_hex(test_log().log_id()) + "\",\"logIndex\":" + std::to_string(e.log_index) + "}";
    by_other.set = base64_encode(other.sign(as_bytes(canonical)).release_value());
    refused(by_other, "inclusionPromise.signedEntryTimestamp", Errc::Crypto);
    EntryParts garbage = e;
    garbage.set = "!!";
    refused(garbage, "inclusionPromise.signedEntryTimestamp", Errc::Format);
}

TEST_CASE("a body for another envelope, signature or key is refused")
{
    test::Envelope other_payload = test::sign_envelope("{\"release\":2}", test::p256_key());
    refused(test::make_entry(test_log(), test::rekor_body(other_payload, test::p256_key().public_key()), 13, 9),
            "canonicalizedBody.spec.payloadHash", Errc::Crypto);
    // The same payload signed again by another key (Rekor logs it with that key).
    test::Envelope other_sig = test::sign_envelope(envelope().payload, test::ed25519_key());
    refused(test::make_entry(test_log(), test::rekor_body(other_sig, test::ed25519_key().public_key()), 13, 9),
            "canonicalizedBody.spec.signatures[0].signature: not the envelope's signature", Errc::Crypto);
    // This envelope's signature, but another key as verifier (no honest Rekor writes it).
    refused(test::make_entry(test_log(), test::rekor_body(envelope(), test::ed25519_key().public_key()), 13, 9),
            "canonicalizedBody.spec.signatures[0].verifier: key ", Errc::Crypto);
    // The entry is fine, but the bundle's envelope or key is another.
    EntryParts e = good_entry();
    refused(verify(e.json(), test_log().root(), other_payload.json()), "canonicalizedBody.spec.payloadHash",
            Errc::Crypto);
    refused(verify(e.json(), test_log().root(), envelope().json(), test::ed25519_key().public_key()),
            "canonicalizedBody.spec.signatures[0].verifier", Errc::Crypto);
}

TEST_CASE("bodies that are not a dsse 0.0.1 entry of one signature are refused naming the member")
{
    auto with_body = [](const std::string& body) { return test::make_entry(test_log(), body, 5, 2); };
    std::string body = good_body();
    refused(with_body(test::replace_once(body, "\"kind\":\"dsse\"", "\"kind\":\"intoto\"")),
            "canonicalizedBody: kind intoto apiVersion 0.0.1, but kindVersion says dsse 0.0.1", Errc::Format);
    EntryParts hashed = with_body(body);
    hashed.kind = "hashedrekord";
    refused(hashed, "kindVersion: hashedrekord 0.0.1, expected dsse 0.0.1", Errc::Unsupported);
    EntryParts v2 = with_body(body);
    v2.version = "0.0.2";
    refused(v2, "kindVersion: dsse 0.0.2", Errc::Unsupported);
    std::string sig = body.substr(body.find("{\"signature\""));
    sig = sig.substr(0, sig.find('}') + 1);
    refused(with_body(test::replace_once(body, sig, sig + "," + sig)),
            "canonicalizedBody.spec.signatures: 2 entries, expected 1", Errc::Format);
    refused(with_body(test::replace_once(body, sig, "")), "canonicalizedBody.spec.signatures: 0 entries", Errc::Format);
    refused(with_body(test::replace_once(body, "\"verifier\"", "\"publicKey\"")),
            "canonicalizedBody.spec.signatures[0].publicKey: unknown member", Errc::Format);
    refused(with_body(test::replace_once(body, "\"spec\":{", "\"spec\":{\"proposedContent\":{},")),
            "canonicalizedBody.spec.proposedContent: unknown member", Errc::Format);
    refused(with_body(test::replace_once(body, "\"algorithm\":\"sha256\"", "\"algorithm\":\"sha512\"")),
            "canonicalizedBody.spec.envelopeHash.algorithm: \"sha512\"", Errc::Unsupported);
    std::string payload_hash = to_hex(crypto::Sha256::of(as_bytes(envelope().payload)));
    std::string upper = payload_hash;
    for (char& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    refused(with_body(test::replace_once(body, payload_hash, upper)),
            "canonicalizedBody.spec.payloadHash.value: expected 64 lower-case hex digits", Errc::Format);
    refused(with_body(test::replace_once(body, payload_hash, payload_hash.substr(2))),
            "canonicalizedBody.spec.payloadHash.value", Errc::Format);
    std::string verifier = base64_encode(as_bytes(test::p256_key().public_key().pem()));
    refused(with_body(test::replace_once(body, verifier, base64_encode(as_bytes("not a key")))),
            "canonicalizedBody.spec.signatures[0].verifier", Errc::Format);
    refused(with_body("not json"), "canonicalizedBody: not valid JSON", Errc::Format);
}

TEST_CASE("an unknown log, or an entry outside the log key's validity, is refused")
{
    EntryParts e = good_entry();
    test::TestLog other;
    refused(verify(e.json(), other.root()), "logId.keyId: ", Errc::Crypto);
    EntryParts wrong_id = e;
    wrong_id.log_id = base64_encode(other.log_id());
    refused(wrong_id, "is not a log of the trusted root", Errc::Crypto);

    TrustedRoot later = test_log().root();
    later.tlogs[0].valid_from = e.integrated_time + 1;
    refused(verify(e.json(), later),
            "integratedTime: 1600001000 is outside the validity of log https://rekor.example.dev", Errc::Policy);
    TrustedRoot ended = test_log().root();
    ended.tlogs[0].valid_until = e.integrated_time - 1;
    refused(verify(e.json(), ended), "integratedTime: 1600001000 is outside the validity", Errc::Policy);
    ended.tlogs[0].valid_until = e.integrated_time;  // both ends included, as @sigstore/verify's filter has them
    CHECK(verify(e.json(), ended).ok());
    later.tlogs[0].valid_from = e.integrated_time;
    CHECK(verify(e.json(), later).ok());
}

TEST_CASE("malformed entries are refused naming the member")
{
    std::string good = good_entry().json();
    refused(verify(test::replace_once(good, "{", "{\"extra\":1,")), "tlogEntry.extra: unknown member", Errc::Format);
    refused(verify(test::replace_once(good, "{", "{\"logIndex\":\"1\",")), "tlogEntry.logIndex: duplicate member",
            Errc::Format);
    refused(verify(test::replace_once(good, "\"logIndex\":\"31337\"", "\"logIndex\":\"-1\"")),
            "tlogEntry.logIndex: \"-1\" is not a decimal integer", Errc::Format);
    refused(verify(test::replace_once(good, "\"logIndex\":\"31337\"", "\"logIndex\":\"031337\"")), "tlogEntry.logIndex",
            Errc::Format);
    refused(verify(test::replace_once(good, "\"logIndex\":\"31337\"", "\"logIndex\":\"9223372036854775808\"")),
            "tlogEntry.logIndex: 9223372036854775808 is beyond 2^63-1", Errc::Format);
    refused(verify(test::replace_once(good, "\"logIndex\":\"31337\"", "\"logIndex\":-1")),
            "tlogEntry.logIndex: expected an integer from 0", Errc::Format);
    refused(verify(test::replace_once(good, "\"logIndex\":\"31337\"", "\"logIndex\":1.5")),
            "tlogEntry.logIndex: expected an integer or its decimal string", Errc::Format);
    refused(verify(test::replace_once(good, "\"treeSize\":\"13\"", "\"treeSize\":\"\"")), "inclusionProof.treeSize",
            Errc::Format);
    refused(verify(test::replace_once(good, "\"kindVersion\"", "\"kind\"")), "tlogEntry.kind: unknown member",
            Errc::Format);
    refused(verify(test::replace_once(good, "\"logId\":{", "\"logId\":{\"x\":1,")), "logId.x: unknown member",
            Errc::Format);
    refused(verify(test::replace_once(good, "\"checkpoint\":{", "\"checkpoint\":{\"x\":1,")),
            "inclusionProof.checkpoint.x: unknown member", Errc::Format);
    refused(verify(test::replace_once(good, "\"hashes\":[", "\"hashes\":[\"AAAA\",")),
            "inclusionProof.hashes[0]: expected the base64 of 32 bytes", Errc::Format);
    refused(verify(test::replace_once(good, "\"hashes\":[", "\"hashes\":[7,")),
            "inclusionProof.hashes[0]: expected the base64 of 32 bytes", Errc::Format);
    std::string many = "\"hashes\":[";
    for (int i = 0; i < 65; ++i)
        many += "\"" + base64_encode(Bytes(32, 1)) + "\",";
    refused(verify(test::replace_once(good, "\"hashes\":[", many)), "inclusionProof.hashes: too many items",
            Errc::Format);
    refused(verify(test::replace_once(good, "\"canonicalizedBody\":\"", "\"canonicalizedBody\":\"!")),
            "tlogEntry.canonicalizedBody", Errc::Format);
    refused(verify(test::replace_once(good, "\"inclusionProof\":{", "\"inclusionProof\":{\"x\":1,")),
            "inclusionProof.x: unknown member", Errc::Format);
    auto not_object = proto::JsonDoc::parse("[]", "entry");
    refused(verify_tlog_entry(not_object->root(), envelope().json(), test::p256_key().public_key(), test_log().root()),
            "tlogEntry: expected a JSON object", Errc::Format);
}

TEST_CASE("a real public-good Rekor entry: its proof, checkpoint and promise verify; it is refused only for its "
          "key, a Fulcio certificate")
{
    auto root = test::take(load_trusted_root(test::vector_path("sigstore/trusted_root_public_good.json")));
    auto text =
        test::take(read_text_file(test::vector_path("sigstore/tflint-ruleset-aws_v0.34.0.sigstore.json"), 1 << 20));
    auto check = [&](const std::string& bundle) {
        auto doc = test::take(proto::JsonDoc::parse(bundle, "bundle"));
        yyjson_val* entry =
            yyjson_arr_get_first(yyjson_obj_get(yyjson_obj_get(doc.root(), "verificationMaterial"), "tlogEntries"));
        std::string envelope = test::take(proto::jcs_serialize(yyjson_obj_get(doc.root(), "dsseEnvelope")));
        return verify_tlog_entry(entry, envelope, test::p256_key().public_key(), root);
    };
    // Every check before the key's passed: the log id and its validity, the ten-hash path to the
    // root of 18089576 leaves, the log's signature on that checkpoint and on the promise, the
    // payload hash and the signature.
    refused(check(text), "canonicalizedBody.spec.signatures[0].verifier: PEM", Errc::Format);
    refused(check(test::replace_once(
                text, "m0GIdi2NTtR+A1cxU8gP9ZDBDqGO6EymxBeek9DPkJ8=", "m0GIdi2NTtR+A1cxU8gP9ZDBDqGO6EymxBeek9DPkJ4=")),
            "inclusionProof.hashes: the audit path from leaf 18089573 of 18089576", Errc::Crypto);
    refused(check(test::replace_once(text, "\"integratedTime\": \"1728923609\"", "\"integratedTime\": \"1728923610\"")),
            "inclusionPromise.signedEntryTimestamp", Errc::Crypto);
    refused(check(test::replace_once(text, "\"logIndex\": \"139993835\"", "\"logIndex\": \"139993836\"")),
            "inclusionPromise.signedEntryTimestamp", Errc::Crypto);
    refused(check(test::replace_once(text, "\"treeSize\": \"18089576\"", "\"treeSize\": \"18089577\"")),
            "inclusionProof.treeSize: 18089577, but the signed checkpoint says 18089576", Errc::Crypto);
    refused(
        check(test::replace_once(
            text, "MEUCIQDZjrrmwvKlaCa8pQs9j8an5xGjAqX9DF02/8qKxJgB0AIgJL7J2ptzS/gRwlwgN5obsXQiBWXnQ2bcJgBUI+Sahjk=",
            "MEUCIQDZjrrmwvKlaCa8pQs9j8an5xGjAqX9DF02/8qKxJgB0AIgJL7J2ptzS/gRwlwgN5obsXQiBWXnQ2bcJgBUI+Sahjg=")),
        "canonicalizedBody.spec.signatures[0].signature: not the envelope's signature", Errc::Crypto);
}
