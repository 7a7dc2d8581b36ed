#include "tlog_fixture.h"

#include <doctest.h>
#include <yyjson.h>

#include "base/base64.h"
#include "proto/json.h"
#include "release/merkle.h"
#include "release/release.h"

namespace cvm::test {

using namespace release;

namespace {

// The largest power of two smaller than n (n > 1), RFC 6962 §2.1's k.
size_t split_point(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

std::string sha256_hex(ByteView data)
{
    return to_hex(crypto::Sha256::of(data));
}

}  // namespace

crypto::Sha256Digest mth(std::span<const Bytes> leaves)
{
    if (leaves.size() == 1)
        return rfc6962_leaf_hash(leaves[0]);
    size_t k = split_point(leaves.size());
    return rfc6962_node_hash(mth(leaves.first(k)), mth(leaves.subspan(k)));
}

std::vector<crypto::Sha256Digest> audit_path(size_t m, std::span<const Bytes> leaves)
{
    if (leaves.size() == 1)
        return {};
    size_t k = split_point(leaves.size());
    std::vector<crypto::Sha256Digest> path;
    if (m < k) {
        path = audit_path(m, leaves.first(k));
        path.push_back(mth(leaves.subspan(k)));
    } else {
        path = audit_path(m - k, leaves.subspan(k));
        path.push_back(mth(leaves.first(k)));
    }
    return path;
}

std::vector<Bytes> sample_leaves(size_t count)
{
    std::vector<Bytes> leaves;
    for (size_t i = 0; i < count; ++i)
        leaves.push_back(Bytes(7 + i % 13, static_cast<uint8_t>(i)));
    return leaves;
}

std::string signature_line(std::string_view note, const SigningKey& key, std::string_view name,
                           std::span<const uint8_t> hint)
{
    Bytes sig = key.sign(as_bytes(note)).release_value();
    Bytes hint_and_sig(hint.begin(), hint.end());
    hint_and_sig.insert(hint_and_sig.end(), sig.begin(), sig.end());
    return "\u2014 " + std::string(name) + " " + base64_encode(hint_and_sig) + "\n";
}

TestLog::TestLog() : m_key(SigningKey::generate(KeyKind::EcdsaP256).release_value()) {}

std::array<uint8_t, 32> TestLog::log_id() const
{
    return crypto::Sha256::of(m_key.public_key().spki_der());
}

TransparencyLog TestLog::tlog() const
{
    TransparencyLog log;
    log.base_url = std::string("https://") + HOST;
    log.log_id = log_id();
    log.key = m_key.public_key();
    log.valid_from = VALID_FROM;
    return log;
}

TrustedRoot TestLog::root() const
{
    TrustedRoot root;
    root.tlogs.push_back(tlog());
    return root;
}

std::string TestLog::checkpoint(uint64_t size, const crypto::Sha256Digest& root, const SigningKey* signer,
                                std::string_view name) const
{
    std::string note = std::string(HOST) + " - 1193050959916656506\n" + std::to_string(size) + "\n" +
                       base64_encode(root) + "\nTimestamp: 1601000000000000000\n";
    auto id = log_id();
    return note + "\n" + signature_line(note, signer ? *signer : m_key, name, std::span(id).first(4));
}

Bytes TestLog::signed_entry_timestamp(ByteView body, int64_t integrated_time, int64_t log_index) const
{
    std::string canonical = "{\"body\":\"" + base64_encode(body) +
                            "\",\"integratedTime\":" + std::to_string(integrated_time) + ",\"logID\":\"" +
                            to_hex(log_id()) + "\",\"logIndex\":" + std::to_string(log_index) + "}";
    return m_key.sign(as_bytes(canonical)).release_value();
}

std::string Envelope::json() const
{
    return "{\"payload\":\"" + base64_encode(as_bytes(payload)) + "\",\"payloadType\":\"" + PAYLOAD_TYPE +
           "\",\"signatures\":[{\"keyid\":\"\",\"sig\":\"" + base64_encode(signature) + "\"}]}";
}

Envelope sign_envelope(std::string payload, const SigningKey& key)
{
    Envelope e;
    e.signature = key.sign(pae(PAYLOAD_TYPE, as_bytes(payload))).release_value();
    e.payload = std::move(payload);
    return e;
}

std::string rekor_body(const Envelope& envelope, const PublicKey& verifier)
{
    return "{\"apiVersion\":\"0.0.1\",\"kind\":\"dsse\",\"spec\":{\"envelopeHash\":{\"algorithm\":\"sha256\","
           "\"value\":\"" +
           sha256_hex(as_bytes(envelope.json())) + "\"},\"payloadHash\":{\"algorithm\":\"sha256\",\"value\":\"" +
           sha256_hex(as_bytes(envelope.payload)) + "\"},\"signatures\":[{\"signature\":\"" +
           base64_encode(envelope.signature) + "\",\"verifier\":\"" + base64_encode(as_bytes(verifier.pem())) +
           "\"}]}}";
}

std::string EntryParts::json() const
{
    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    yyjson_mut_val* root = yyjson_mut_obj(doc);
    yyjson_mut_doc_set_root(doc, root);
    yyjson_mut_obj_add_strcpy(doc, root, "logIndex", std::to_string(log_index).c_str());
    yyjson_mut_obj_add_strcpy(doc, yyjson_mut_obj_add_obj(doc, root, "logId"), "keyId", log_id.c_str());
    yyjson_mut_val* kv = yyjson_mut_obj_add_obj(doc, root, "kindVersion");
    yyjson_mut_obj_add_strcpy(doc, kv, "kind", kind.c_str());
    yyjson_mut_obj_add_strcpy(doc, kv, "version", version.c_str());
    yyjson_mut_obj_add_strcpy(doc, root, "integratedTime", std::to_string(integrated_time).c_str());
    if (set)
        yyjson_mut_obj_add_strcpy(doc, yyjson_mut_obj_add_obj(doc, root, "inclusionPromise"), "signedEntryTimestamp",
                                  set->c_str());
    if (has_proof) {
        yyjson_mut_val* proof = yyjson_mut_obj_add_obj(doc, root, "inclusionProof");
        yyjson_mut_obj_add_strcpy(doc, proof, "logIndex", std::to_string(proof_index).c_str());
        yyjson_mut_obj_add_strcpy(doc, proof, "rootHash", root_hash.c_str());
        yyjson_mut_obj_add_strcpy(doc, proof, "treeSize", std::to_string(tree_size).c_str());
        yyjson_mut_val* list = yyjson_mut_obj_add_arr(doc, proof, "hashes");
        for (const std::string& h : hashes)
            yyjson_mut_arr_add_strcpy(doc, list, h.c_str());
        yyjson_mut_obj_add_strncpy(doc, yyjson_mut_obj_add_obj(doc, proof, "checkpoint"), "envelope", checkpoint.data(),
                                   checkpoint.size());
    }
    yyjson_mut_obj_add_strcpy(doc, root, "canonicalizedBody", base64_encode(as_bytes(body)).c_str());
    std::string out = proto::write_json(doc);
    yyjson_mut_doc_free(doc);
    return out;
}

EntryParts make_entry(const TestLog& log, const std::string& body, size_t tree_size, size_t index)
{
    REQUIRE(index < tree_size);
    std::vector<Bytes> leaves = sample_leaves(tree_size);
    leaves[index] = Bytes(body.begin(), body.end());
    crypto::Sha256Digest root = mth(leaves);
    EntryParts e;
    e.log_id = base64_encode(log.log_id());
    e.set = base64_encode(log.signed_entry_timestamp(as_bytes(body), e.integrated_time, e.log_index));
    e.proof_index = index;
    e.tree_size = tree_size;
    e.root_hash = base64_encode(root);
    for (const auto& h : audit_path(index, leaves))
        e.hashes.push_back(base64_encode(h));
    e.checkpoint = log.checkpoint(tree_size, root);
    e.body = body;
    return e;
}

}  // namespace cvm::test
