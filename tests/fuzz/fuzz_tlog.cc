// libFuzzer harness: the Rekor entry verifier's parsers (release/tlog.h, release/checkpoint.h),
// against a trusted root holding one log whose key this harness has (Ed25519, a fixed seed), so
// inputs get past the log lookup. The first byte picks what the rest is:
//   0: a tlogEntries[] element;
//   1: a canonicalizedBody, which the harness logs itself (a tree of one leaf, its checkpoint and
//      promise signed with the log key), so the body parser is reached with any body;
//   2: a checkpoint note of the log;
//   3: a trusted root.
// The envelope is fixed: payload "{}" signed by the release key (Ed25519, another fixed seed).
// Invariants: a body (1) is accepted only if it names the envelope's payload hash, signature
// and the release key; an accepted trusted root (3) has a log, each with a key; nothing crashes.
// Seeds (corpus/tlog) were made with pyca/cryptography from the same seeds.
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <yyjson.h>

#include "base/base64.h"
#include "crypto/digest.h"
#include "proto/json.h"
#include "proto/keys.h"
#include "release/checkpoint.h"
#include "release/merkle.h"
#include "release/release.h"
#include "release/tlog.h"

namespace {

using namespace cvm;
using namespace cvm::release;

constexpr const char* LOG_URL = "https://rekor.fuzz";
constexpr const char* LOG_HOST = "rekor.fuzz";

SigningKey key_from_seed(uint8_t fill)
{
    Secret<proto::ED25519_SEED_SIZE> seed;
    for (uint8_t& b : seed.expose())
        b = fill;
    SecretBytes pem = proto::ed25519_private_pem(proto::Ed25519KeyPair::from_seed(seed));
    auto parsed = SigningKey::parse_pem({reinterpret_cast<const char*>(pem.expose().data()), pem.expose().size()});
    if (!parsed.ok())
        abort();
    return parsed.release_value();
}

const SigningKey& log_key()
{
    static const SigningKey key = key_from_seed(0x4c);
    return key;
}

const SigningKey& release_key()
{
    static const SigningKey key = key_from_seed(0x42);
    return key;
}

const TrustedRoot& root()
{
    static const TrustedRoot r = [] {
        TransparencyLog log;
        log.base_url = LOG_URL;
        log.log_id = crypto::Sha256::of(log_key().public_key().spki_der());
        log.key = log_key().public_key();
        TrustedRoot out;
        out.tlogs.push_back(log);
        return out;
    }();
    return r;
}

struct Envelope {
    std::string json;
    std::string payload_hash;  // hex
    std::string signature;     // base64
};

const Envelope& envelope()
{
    static const Envelope e = [] {
        const std::string payload = "{}";
        Bytes sig = release_key().sign(pae(PAYLOAD_TYPE, as_bytes(payload))).release_value();
        Envelope out;
        out.signature = base64_encode(sig);
        out.payload_hash = to_hex(crypto::Sha256::of(as_bytes(payload)));
        out.json = "{\"payload\":\"" + base64_encode(as_bytes(payload)) + "\",\"payloadType\":\"" + PAYLOAD_TYPE +
                   "\",\"signatures\":[{\"keyid\":\"\",\"sig\":\"" + out.signature + "\"}]}";
        return out;
    }();
    return e;
}

Result<int64_t> verify_entry_text(std::string_view text)
{
    auto doc = proto::JsonDoc::parse(text, "entry");
    if (!doc.ok())
        return doc.release_error();
    return verify_tlog_entry(doc->root(), envelope().json, release_key().public_key(), root());
}

// The entry of `body` as leaf 0 of a tree of one, with checkpoint and promise by the log key.
std::string logged(std::string_view body)
{
    const auto& log = root().tlogs[0];
    crypto::Sha256Digest leaf = rfc6962_leaf_hash(as_bytes(body));
    std::string note = std::string(LOG_HOST) + " - 1\n1\n" + base64_encode(leaf) + "\n";
    Bytes hint_sig(log.log_id.begin(), log.log_id.begin() + 4);
    Bytes sig = log_key().sign(as_bytes(note)).release_value();
    hint_sig.insert(hint_sig.end(), sig.begin(), sig.end());
    std::string checkpoint = note + "\n\u2014 " + LOG_HOST + " " + base64_encode(hint_sig) + "\n";
    std::string b64 = base64_encode(as_bytes(body));
    std::string set_payload =
        "{\"body\":\"" + b64 + "\",\"integratedTime\":1,\"logID\":\"" + to_hex(log.log_id) + "\",\"logIndex\":0}";
    std::string set = base64_encode(log_key().sign(as_bytes(set_payload)).release_value());

    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    if (!doc)
        abort();
    yyjson_mut_val* e = yyjson_mut_obj(doc);
    yyjson_mut_doc_set_root(doc, e);
    yyjson_mut_obj_add_strcpy(doc, yyjson_mut_obj_add_obj(doc, e, "logId"), "keyId", base64_encode(log.log_id).c_str());
    yyjson_mut_val* kv = yyjson_mut_obj_add_obj(doc, e, "kindVersion");
    yyjson_mut_obj_add_str(doc, kv, "kind", "dsse");
    yyjson_mut_obj_add_str(doc, kv, "version", "0.0.1");
    yyjson_mut_obj_add_str(doc, e, "integratedTime", "1");
    yyjson_mut_obj_add_strcpy(doc, yyjson_mut_obj_add_obj(doc, e, "inclusionPromise"), "signedEntryTimestamp",
                              set.c_str());
    yyjson_mut_val* proof = yyjson_mut_obj_add_obj(doc, e, "inclusionProof");
    yyjson_mut_obj_add_strcpy(doc, proof, "rootHash", base64_encode(leaf).c_str());
    yyjson_mut_obj_add_str(doc, proof, "treeSize", "1");
    yyjson_mut_obj_add_strncpy(doc, yyjson_mut_obj_add_obj(doc, proof, "checkpoint"), "envelope", checkpoint.data(),
                               checkpoint.size());
    yyjson_mut_obj_add_strcpy(doc, e, "canonicalizedBody", b64.c_str());
    std::string out = proto::write_json(doc);
    yyjson_mut_doc_free(doc);
    return out;
}

// Read back with plain yyjson (JSON escapes make a text search wrong): the body's payload hash,
// its one signature and its verifier are the envelope's and the release key's.
bool names_the_envelope(std::string_view body)
{
    auto doc = proto::JsonDoc::parse(body, "body");
    if (!doc.ok())
        return false;
    auto str = [](yyjson_val* v) {
        return yyjson_is_str(v) ? std::string_view(yyjson_get_str(v), yyjson_get_len(v)) : "";
    };
    yyjson_val* spec = yyjson_obj_get(doc->root(), "spec");
    yyjson_val* sigs = yyjson_obj_get(spec, "signatures");
    yyjson_val* sig = yyjson_arr_get_first(sigs);
    auto pem = base64_decode(str(yyjson_obj_get(sig, "verifier")));
    if (yyjson_arr_size(sigs) != 1 || !pem)
        return false;
    auto verifier = PublicKey::parse_pem(std::string_view(reinterpret_cast<const char*>(pem->data()), pem->size()));
    // The signature compared as bytes: base64 text has one canonical spelling here.
    return verifier.ok() && verifier->spki_der() == release_key().public_key().spki_der() &&
           str(yyjson_obj_get(yyjson_obj_get(spec, "payloadHash"), "value")) == envelope().payload_hash &&
           base64_decode(str(yyjson_obj_get(sig, "signature"))) == base64_decode(envelope().signature);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0 || size > 64 * 1024)
        return 0;
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
    case 0: (void)verify_entry_text(text); break;
    case 1:
        if (verify_entry_text(logged(text)).ok() && !names_the_envelope(text))
            abort();
        break;
    case 2: (void)verify_checkpoint(text, root().tlogs[0]); break;
    case 3:
        if (auto r = parse_trusted_root(text); r.ok()) {
            if (r->tlogs.empty())
                abort();
            for (const TransparencyLog& log : r->tlogs) {
                if (log.key.spki_der().empty() || log_host(log.base_url).empty())
                    abort();
            }
        }
        break;
    }
    return 0;
}
