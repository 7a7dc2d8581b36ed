// Sigstore bundle v0.3 with a DSSE envelope (sigstore/protobuf-specs protos/sigstore_bundle.proto,
// JSON mapping): made deterministically, verified fail-closed. The order of the checks follows
// DSSE's protocol.md: the signature over PAE is verified before the payload is parsed.
#include "release/bundle.h"

#include <yyjson.h>

#include "base/base64.h"
#include "proto/jcs.h"
#include "proto/json.h"
#include "release/internal.h"

namespace cvm::release {
namespace {

constexpr size_t MAX_SIGNATURE_SIZE = 128;  // a DER ECDSA P-256 signature is at most 72, Ed25519 64
constexpr size_t MAX_TLOG_ENTRIES = 16;

Error mismatch(const char* member, std::string_view found, std::string_view expected, Errc code = Errc::Format)
{
    return Error::make(code, "%s is \"%.*s\", expected \"%.*s\"", member,
                       static_cast<int>(std::min<size_t>(found.size(), 80)), found.data(),
                       static_cast<int>(expected.size()), expected.data());
}

struct Envelope {
    Bytes payload;
    std::string payload_type;
    Bytes signature;
};

Result<Envelope> parse_envelope(yyjson_val* envelope, const std::string& hint)
{
    TRY(proto::check_members(envelope, "dsseEnvelope", {"payload", "payloadType", "signatures"}));
    Envelope out;
    out.payload = TRY(proto::base64_member(envelope, "payload", "dsseEnvelope", MAX_BUNDLE_SIZE));
    out.payload_type = std::string(TRY(proto::string_member(envelope, "payloadType", "dsseEnvelope")));
    if (out.payload_type != PAYLOAD_TYPE)
        return mismatch("dsseEnvelope.payloadType", out.payload_type, PAYLOAD_TYPE);
    // One signature, by the release key: a second one could only be another key's, which this
    // verifier would have to ignore (sigstore-js's assertBundle also wants exactly one).
    yyjson_val* signatures = TRY(proto::array_member(envelope, "signatures", "dsseEnvelope", MAX_TLOG_ENTRIES));
    if (yyjson_arr_size(signatures) != 1)
        return Error::make(Errc::Format, "dsseEnvelope.signatures has %zu entries, expected exactly 1",
                           yyjson_arr_size(signatures));
    yyjson_val* signature = yyjson_arr_get_first(signatures);
    TRY(proto::check_members(signature, "dsseEnvelope.signatures[0]", {"sig"}, {"keyid"}));
    if (yyjson_obj_get(signature, "keyid")) {
        std::string_view keyid = TRY(proto::string_member(signature, "keyid", "dsseEnvelope.signatures[0]"));
        if (!keyid.empty() && keyid != hint)
            return mismatch("dsseEnvelope.signatures[0].keyid", keyid, hint);
    }
    out.signature = TRY(proto::base64_member(signature, "sig", "dsseEnvelope.signatures[0]", MAX_SIGNATURE_SIZE));
    return out;
}

// verificationMaterial: the release key's hint, and the tlog entries (the array, or nullptr).
Result<yyjson_val*> parse_material(yyjson_val* material, const std::string& hint)
{
    TRY(proto::check_members(material, "verificationMaterial", {"publicKey"},
                             {"tlogEntries", "timestampVerificationData"}));
    // @sigstore/bundle writes "timestampVerificationData": {} (or with an empty rfc3161Timestamps)
    // into every bundle it builds, so a pipeline's bundle has it. RFC 3161 timestamps are not
    // verified here, so one present is refused rather than ignored.
    if (yyjson_val* tsa = yyjson_obj_get(material, "timestampVerificationData")) {
        constexpr const char* TSA = "verificationMaterial.timestampVerificationData";
        TRY(proto::check_members(tsa, TSA, {}, {"rfc3161Timestamps"}));
        if (yyjson_obj_get(tsa, "rfc3161Timestamps") &&
            yyjson_arr_size(TRY(proto::array_member(tsa, "rfc3161Timestamps", TSA, MAX_TLOG_ENTRIES))) != 0)
            return Error::make(Errc::Unsupported,
                               "%s.rfc3161Timestamps: RFC 3161 timestamps are not verified by "
                               "cvm, expected none, refusing",
                               TSA);
    }
    yyjson_val* public_key = yyjson_obj_get(material, "publicKey");
    TRY(proto::check_members(public_key, "verificationMaterial.publicKey", {"hint"}));
    std::string_view found = TRY(proto::string_member(public_key, "hint", "verificationMaterial.publicKey"));
    if (found != hint)
        return mismatch("verificationMaterial.publicKey.hint", found, hint, Errc::Crypto);
    if (!yyjson_obj_get(material, "tlogEntries"))
        return nullptr;
    return proto::array_member(material, "tlogEntries", "verificationMaterial", MAX_TLOG_ENTRIES);
}

}  // namespace

Result<std::string> make_bundle(const Statement& statement, const SigningKey& key)
{
    std::string payload = TRY(statement_json(statement));
    // What is signed must read back as itself: parse_statement is what every verifier applies.
    Statement again = TRY_PREFIX(parse_statement(payload), "statement to sign");
    if (!(again == statement))
        return Error::make(Errc::Config, "statement to sign does not read back as itself, expected a statement "
                                         "in parse_statement's canonical form");
    Bytes signature = TRY(key.sign(pae(PAYLOAD_TYPE, as_bytes(payload))));
    std::string hint = key.public_key().hint();

    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    if (!doc)
        abort();  // only on allocation failure
    yyjson_mut_val* root = yyjson_mut_obj(doc);
    yyjson_mut_doc_set_root(doc, root);
    yyjson_mut_obj_add_str(doc, root, "mediaType", BUNDLE_MEDIA_TYPE);
    yyjson_mut_val* material = yyjson_mut_obj_add_obj(doc, root, "verificationMaterial");
    yyjson_mut_val* public_key = yyjson_mut_obj_add_obj(doc, material, "publicKey");
    yyjson_mut_obj_add_strcpy(doc, public_key, "hint", hint.c_str());
    yyjson_mut_obj_add_arr(doc, material, "tlogEntries");
    yyjson_mut_val* envelope = yyjson_mut_obj_add_obj(doc, root, "dsseEnvelope");
    yyjson_mut_obj_add_strcpy(doc, envelope, "payload", base64_encode(as_bytes(payload)).c_str());
    yyjson_mut_obj_add_str(doc, envelope, "payloadType", PAYLOAD_TYPE);
    yyjson_mut_val* signatures = yyjson_mut_obj_add_arr(doc, envelope, "signatures");
    yyjson_mut_val* entry = yyjson_mut_arr_add_obj(doc, signatures);
    yyjson_mut_obj_add_strcpy(doc, entry, "sig", base64_encode(signature).c_str());
    yyjson_mut_obj_add_strcpy(doc, entry, "keyid", hint.c_str());
    std::string json = proto::write_json(doc);
    yyjson_mut_doc_free(doc);
    return proto::jcs_canonicalize(json, MAX_BUNDLE_SIZE);
}

Result<VerifiedRelease> verify_bundle(std::string_view bundle_json, const VerifyOptions& options)
{
    if (!options.key)
        return Error::make(Errc::Config, "no release key given, expected the release's public key");
    if (options.now <= 0)
        return Error::make(Errc::Config, "verification time is %lld, expected seconds since the epoch",
                           static_cast<long long>(options.now));
    if (bundle_json.size() > MAX_BUNDLE_SIZE)
        return Error::make(Errc::Format, "bundle is %zu bytes, expected at most %zu", bundle_json.size(),
                           MAX_BUNDLE_SIZE);
    proto::JsonDoc doc = TRY(proto::JsonDoc::parse(bundle_json, "bundle"));
    yyjson_val* root = doc.root();
    TRY(proto::check_members(root, "bundle", {"mediaType", "verificationMaterial", "dsseEnvelope"}));
    std::string_view media_type = TRY(proto::string_member(root, "mediaType", "bundle"));
    if (media_type != BUNDLE_MEDIA_TYPE)
        return mismatch("mediaType", media_type, BUNDLE_MEDIA_TYPE);
    std::string hint = options.key->hint();
    yyjson_val* tlog_entries = TRY(parse_material(yyjson_obj_get(root, "verificationMaterial"), hint));
    yyjson_val* envelope_json = yyjson_obj_get(root, "dsseEnvelope");
    Envelope envelope = TRY(parse_envelope(envelope_json, hint));

    TRY_PREFIX(options.key->verify(pae(envelope.payload_type, envelope.payload), envelope.signature),
               "dsseEnvelope.signatures[0].sig");
    std::string_view payload(reinterpret_cast<const char*>(envelope.payload.data()), envelope.payload.size());
    VerifiedRelease out{TRY_PREFIX(parse_statement(payload), "dsseEnvelope.payload"), std::nullopt};

    const std::optional<int64_t>& not_after = out.statement.predicate.not_after;
    if (not_after && options.now >= *not_after)
        return Error::make(Errc::Policy,
                           "release expired: statement.predicate.not_after is %lld, now is %lld, "
                           "refusing",
                           static_cast<long long>(*not_after), static_cast<long long>(options.now));

    size_t entries = tlog_entries ? yyjson_arr_size(tlog_entries) : 0;
    if (entries > 0) {
        // An entry present is verified or the bundle refused: never skipped for lack of a root.
        if (!options.trusted_root)
            return Error::make(Errc::Config,
                               "verificationMaterial.tlogEntries has %zu entries and no trusted root "
                               "was given to verify them, refusing (give the Rekor trusted root)",
                               entries);
        std::string canonical_envelope = TRY_PREFIX(proto::jcs_serialize(envelope_json), "dsseEnvelope");
        for (size_t i = 0; i < entries; ++i) {
            int64_t time = TRY_PREFIX(verify_tlog_entry(yyjson_arr_get(tlog_entries, i), canonical_envelope,
                                                        *options.key, *options.trusted_root),
                                      "verificationMaterial.tlogEntries[%zu]", i);
            if (!out.integrated_time || time < *out.integrated_time)
                out.integrated_time = time;
        }
    }
    if (options.require_tlog && entries == 0)
        return Error::make(Errc::Policy, "verificationMaterial.tlogEntries is empty, expected at least one "
                                         "transparency-log entry (a proof is required), refusing");
    return out;
}

}  // namespace cvm::release
