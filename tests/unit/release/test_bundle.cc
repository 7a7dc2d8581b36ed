// Sigstore bundles: made deterministically for both key kinds, and refused for every way a bundle
// can be wrong, each refusal naming the member.
#include <doctest.h>

#include "base/base64.h"
#include "proto/keys.h"
#include "release_fixture.h"

using namespace cvm;
using namespace cvm::release;
using test::replace_once;

namespace {

std::string make(const SigningKey& key)
{
    return make_bundle(test::sample_statement(), key).value();
}

// The refusal of `bundle` by `key` at SAMPLE_EPOCH, which must have `code`.
std::string refusal(const std::string& bundle, const SigningKey& key, Errc code)
{
    auto verified = verify_bundle(bundle, test::options_for(key));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().code() == code);
    return std::string(verified.error().message());
}

bool contains(const std::string& text, std::string_view part)
{
    return text.find(part) != std::string::npos;
}

std::string payload_b64(const std::string& bundle)
{
    size_t at = bundle.find("\"payload\":\"") + 11;
    return bundle.substr(at, bundle.find('"', at) - at);
}

std::string sig_b64(const std::string& bundle)
{
    size_t at = bundle.find("\"sig\":\"") + 7;
    return bundle.substr(at, bundle.find('"', at) - at);
}

const SigningKey* const KEYS[] = {&test::p256_key(), &test::ed25519_key()};

}  // namespace

TEST_CASE("a bundle verifies with its key, carries the statement, and is the same bytes every time")
{
    for (const SigningKey* key : KEYS) {
        std::string bundle = make(*key);
        CAPTURE(bundle);
        CHECK(bundle.starts_with("{\"dsseEnvelope\":{\"payload\":\""));
        CHECK(contains(bundle, "\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\""));
        CHECK(contains(bundle, "\"verificationMaterial\":{\"publicKey\":{\"hint\":\"" + key->public_key().hint() +
                                   "\"},\"tlogEntries\":[]}"));
        CHECK(contains(bundle, "\"payloadType\":\"application/vnd.in-toto+json\""));
        CHECK(bundle == make(*key));
        CHECK(bundle == test::hand_bundle(to_json(test::sample_statement()), *key));
        VerifiedRelease verified = verify_bundle(bundle, test::options_for(*key)).value();
        CHECK(verified.statement == test::sample_statement());
        CHECK_FALSE(verified.integrated_time);
    }
}

TEST_CASE("make_bundle signs only a statement that reads back as itself")
{
    Statement s = test::sample_statement();
    s.predicate.shapes[0].shape.vcpus = 0;
    auto refused = make_bundle(s, test::p256_key());
    REQUIRE_FALSE(refused.ok());
    CHECK(contains(std::string(refused.error().message()), "statement to sign: statement.predicate.shapes[0].vcpus"));
    s = test::sample_statement();
    s.predicate.tool = "cvm \xc3";
    CHECK(make_bundle(s, test::p256_key()).error().code() == Errc::Config);
}

TEST_CASE("another media type, payload type, or an extra member is refused")
{
    const SigningKey& key = test::p256_key();
    std::string bundle = make(key);
    CHECK(contains(refusal(replace_once(bundle, "bundle.v0.3+json", "bundle.v0.2+json"), key, Errc::Format),
                   "mediaType is \"application/vnd.dev.sigstore.bundle.v0.2+json\", expected "
                   "\"application/vnd.dev.sigstore.bundle.v0.3+json\""));
    std::string payload = to_json(test::sample_statement());
    CHECK(contains(refusal(test::hand_bundle(payload, key, "application/json"), key, Errc::Format),
                   "dsseEnvelope.payloadType is \"application/json\", expected \"application/vnd.in-toto+json\""));
    CHECK(contains(refusal(replace_once(bundle, "{\"dsseEnvelope\"", "{\"messageSignature\":{},\"dsseEnvelope\""), key,
                           Errc::Format),
                   "bundle.messageSignature: unknown member"));
    CHECK(contains(refusal(replace_once(bundle, "\"payloadType\"", "\"extra\":1,\"payloadType\""), key, Errc::Format),
                   "dsseEnvelope.extra: unknown member"));
    CHECK(contains(
        refusal(replace_once(bundle, "\"tlogEntries\"", "\"timestampVerificationData\":{\"x\":{}},\"tlogEntries\""),
                key, Errc::Format),
        "verificationMaterial.timestampVerificationData.x: unknown member"));
    CHECK(contains(refusal(replace_once(bundle, "{\"hint\"", "{\"rawBytes\":\"\",\"hint\""), key, Errc::Format),
                   "verificationMaterial.publicKey.rawBytes: unknown member"));
    CHECK(
        contains(refusal(replace_once(bundle, "\"mediaType\"", "\"mediaType\":\"x\",\"mediaType\""), key, Errc::Format),
                 "duplicate member"));
}

TEST_CASE("a bundle without tlogEntries (protobuf JSON omits an empty list) verifies")
{
    const SigningKey& key = test::ed25519_key();
    std::string bundle = replace_once(make(key), ",\"tlogEntries\":[]", "");
    CHECK(verify_bundle(bundle, test::options_for(key)).ok());
}

TEST_CASE("an empty timestampVerificationData, as @sigstore/bundle writes it, verifies; a timestamp is refused")
{
    const SigningKey& key = test::p256_key();
    std::string bundle = make(key);
    auto with = [&](const char* tsa) {
        return replace_once(bundle, "\"tlogEntries\":[]",
                            std::string("\"tlogEntries\":[],\"timestampVerificationData\":") + tsa);
    };
    CHECK(verify_bundle(with("{}"), test::options_for(key)).ok());
    CHECK(verify_bundle(with("{\"rfc3161Timestamps\":[]}"), test::options_for(key)).ok());
    CHECK(contains(refusal(with("{\"rfc3161Timestamps\":[{\"signedTimestamp\":\"AAAA\"}]}"), key, Errc::Unsupported),
                   "verificationMaterial.timestampVerificationData.rfc3161Timestamps"));
    CHECK(contains(refusal(with("{\"x\":1}"), key, Errc::Format),
                   "verificationMaterial.timestampVerificationData.x: unknown member"));
    CHECK(contains(refusal(with("[]"), key, Errc::Format), "verificationMaterial.timestampVerificationData"));
}

TEST_CASE("bad base64 is refused")
{
    const SigningKey& key = test::p256_key();
    std::string bundle = make(key);
    std::string payload = payload_b64(bundle);
    CHECK(contains(refusal(replace_once(bundle, payload, "@" + payload.substr(1)), key, Errc::Format),
                   "dsseEnvelope.payload: not canonical base64"));
    CHECK(contains(refusal(replace_once(bundle, payload, payload.substr(1)), key, Errc::Format),
                   "dsseEnvelope.payload: not canonical base64"));
    // base64url in place of base64.
    std::string sig = sig_b64(bundle);
    std::string url = sig;
    for (char& c : url)
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    if (url != sig)
        CHECK(contains(refusal(replace_once(bundle, sig, url), key, Errc::Format), "signatures[0].sig"));
    // Non-zero unused bits in the last symbol of a 64-byte Ed25519 signature ("...==").
    const SigningKey& ed = test::ed25519_key();
    std::string ed_bundle = make(ed);
    std::string ed_sig = sig_b64(ed_bundle);
    REQUIRE(ed_sig.ends_with("=="));
    std::string loose = ed_sig;
    char& last = loose[loose.size() - 3];
    last = last == 'A' ? 'B' : static_cast<char>(last ^ 1);
    CHECK(contains(refusal(replace_once(ed_bundle, ed_sig, loose), ed, Errc::Format),
                   "dsseEnvelope.signatures[0].sig: not canonical base64"));
}

TEST_CASE("a flipped payload byte, a signature by another key, or two signatures are refused")
{
    for (const SigningKey* key : KEYS) {
        std::string bundle = make(*key);
        std::string payload = to_json(test::sample_statement());
        std::string flipped = replace_once(payload, "EPYC-Milan", "EPYC-Milam");
        std::string tampered = replace_once(bundle, payload_b64(bundle), base64_encode(as_bytes(flipped)));
        CHECK(contains(refusal(tampered, *key, Errc::Crypto),
                       "dsseEnvelope.signatures[0].sig: signature does not verify with the release key " +
                           key->public_key().hint()));

        // Signed by another key of the same kind: the hint already says so; with the hint
        // rewritten, the signature does.
        SigningKey other = test::take(SigningKey::generate(key->public_key().kind()));
        std::string foreign = make(other);
        CHECK(contains(refusal(foreign, *key, Errc::Crypto), "verificationMaterial.publicKey.hint is \"" +
                                                                 other.public_key().hint() + "\", expected \"" +
                                                                 key->public_key().hint() + "\""));
        std::string disguised = replace_once(replace_once(foreign, other.public_key().hint(), key->public_key().hint()),
                                             other.public_key().hint(), key->public_key().hint());
        CHECK(contains(refusal(disguised, *key, Errc::Crypto), "signature does not verify"));

        std::string sig = sig_b64(bundle);
        std::string two = replace_once(bundle, "}]}", "},{\"sig\":\"" + sig + "\"}]}");
        CHECK(contains(refusal(two, *key, Errc::Format), "dsseEnvelope.signatures has 2 entries, expected exactly 1"));
        std::string none = replace_once(
            bundle, bundle.substr(bundle.find("[{\"keyid\""), bundle.find("}]}") + 2 - bundle.find("[{\"keyid\"")),
            "[]");
        CHECK(contains(refusal(none, *key, Errc::Format), "dsseEnvelope.signatures has 0 entries"));
        std::string keyid = replace_once(bundle, "\"keyid\":\"" + key->public_key().hint(), "\"keyid\":\"other");
        CHECK(contains(refusal(keyid, *key, Errc::Format), "dsseEnvelope.signatures[0].keyid is \"other\""));
        std::string empty_keyid = replace_once(bundle, "\"keyid\":\"" + key->public_key().hint(), "\"keyid\":\"");
        CHECK(verify_bundle(empty_keyid, test::options_for(*key)).ok());
    }
}

TEST_CASE("a validly signed statement that is not a valid release is refused")
{
    const SigningKey& key = test::ed25519_key();
    Statement s = test::sample_statement();
    s.predicate.shapes[1].shape = s.predicate.shapes[0].shape;
    CHECK(contains(refusal(test::hand_bundle(to_json(s), key), key, Errc::Format),
                   "dsseEnvelope.payload: statement.predicate.shapes[1] is the shape of shapes[0] again"));
    CHECK(contains(refusal(test::hand_bundle("{}", key), key, Errc::Format),
                   "dsseEnvelope.payload: statement._type: missing"));
    CHECK(contains(refusal(test::hand_bundle("", key), key, Errc::Format), "dsseEnvelope.payload"));
}

TEST_CASE("a release is refused from its not_after on")
{
    const SigningKey& key = test::p256_key();
    std::string bundle = make(key);
    VerifyOptions options = test::options_for(key);
    options.now = test::SAMPLE_NOT_AFTER - 1;
    CHECK(verify_bundle(bundle, options).ok());
    options.now = test::SAMPLE_NOT_AFTER;
    auto expired = verify_bundle(bundle, options);
    REQUIRE_FALSE(expired.ok());
    CHECK(expired.error().code() == Errc::Policy);
    CHECK(std::string(expired.error().message()) ==
          "release expired: statement.predicate.not_after is 1700001000, now is 1700001000, refusing");
    // Without a not_after of its own, a release does not expire here (the broker's max_age may).
    Statement s = test::sample_statement();
    s.predicate.not_after.reset();
    options.now = INT64_MAX;
    CHECK(verify_bundle(make_bundle(s, key).value(), options).ok());
    options.now = 0;
    CHECK(verify_bundle(bundle, options).error().code() == Errc::Config);
    options = test::options_for(key);
    options.key = nullptr;
    CHECK(verify_bundle(bundle, options).error().code() == Errc::Config);
}

TEST_CASE("tlog entries are verified or the bundle refused; require_tlog wants one")
{
    const SigningKey& key = test::p256_key();
    std::string bundle = make(key);
    VerifyOptions options = test::options_for(key);
    options.require_tlog = true;
    auto none = verify_bundle(bundle, options);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().code() == Errc::Policy);
    CHECK(contains(std::string(none.error().message()), "verificationMaterial.tlogEntries is empty"));

    std::string entry = "{\"logIndex\":\"1\",\"logId\":{\"keyId\":\"AAAA\"},\"kindVersion\":{\"kind\":\"dsse\","
                        "\"version\":\"0.0.1\"},\"integratedTime\":\"1700000000\",\"canonicalizedBody\":\"e30=\"}";
    std::string with_entry = replace_once(bundle, "\"tlogEntries\":[]", "\"tlogEntries\":[" + entry + "]");
    options.require_tlog = false;
    auto no_root = verify_bundle(with_entry, options);
    REQUIRE_FALSE(no_root.ok());
    CHECK(no_root.error().code() == Errc::Config);
    CHECK(contains(std::string(no_root.error().message()),
                   "verificationMaterial.tlogEntries has 1 entries and no trusted root was given to verify them"));
    // With a root, the entry goes to verify_tlog_entry, which refuses this one (no log it knows).
    TrustedRoot root;
    options.trusted_root = &root;
    CHECK_FALSE(verify_bundle(with_entry, options).ok());
    CHECK_FALSE(verify_bundle(replace_once(bundle, "\"tlogEntries\":[]", "\"tlogEntries\":{}"), options).ok());
}

TEST_CASE("oversized or non-JSON bundles are refused before parsing")
{
    const SigningKey& key = test::p256_key();
    CHECK(contains(refusal(std::string(MAX_BUNDLE_SIZE + 1, ' '), key, Errc::Format), "bundle is 1048577 bytes"));
    CHECK(contains(refusal("{\"mediaType\":", key, Errc::Format), "bundle: not valid JSON"));
    CHECK(contains(refusal(make(key) + "\n{}", key, Errc::Format), "bundle: not valid JSON"));
}

TEST_CASE("a bundle made by an independent implementation verifies, and ours is the same bytes")
{
    // tests/fuzz/corpus/release_bundle/signed.json: made with pyca/cryptography's Ed25519 (seed
    // 0x42 x 32), the statement and the bundle canonicalized by json.dumps(sort_keys=True,
    // separators=(",", ":")), PAE written out by hand (DSSE protocol.md).
    const std::string bundle =
        R"({"dsseEnvelope":{"payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJwcmVkaWNhdGUi)"
        R"(OnsiY21kbGluZSI6ImNvbnNvbGU9dHR5UzAiLCJndWVzdF9mZWF0dXJlcyI6IjB4MSIsImhvc3RfZGF0YSI6ImVlZWVlZWVlZWVl)"
        R"(ZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWUiLCJtb2RlIjoic25wIiwibm90X2Fm)"
        R"(dGVyIjoxODAwMDAwMDAwLCJwb2xpY3kiOiIweDMwMDAwIiwic2hhcGVzIjpbeyJtZWFzdXJlbWVudCI6IjAxMDEwMTAxMDEwMTAx)"
        R"(MDEwMTAxMDEwMTAxMDEwMTAxMDEwMTAxMDEwMTAxMDEwMTAxMDEwMTAxMDEwMTAxMDEwMTAxMDEwMTAxMDEwMTAxMDEwMTAxMDEw)"
        R"(MTAxMDEwMSIsInZjcHVfdHlwZSI6IkVQWUMtdjQiLCJ2Y3B1cyI6MSwidm1tX3R5cGUiOiJRRU1VIn0seyJtZWFzdXJlbWVudCI6)"
        R"(IjAyMDIwMjAyMDIwMjAyMDIwMjAyMDIwMjAyMDIwMjAyMDIwMjAyMDIwMjAyMDIwMjAyMDIwMjAyMDIwMjAyMDIwMjAyMDIwMjAy)"
        R"(MDIwMjAyMDIwMjAyMDIwMjAyMDIwMiIsInZjcHVfdHlwZSI6IkVQWUMtTWlsYW4iLCJ2Y3B1cyI6NCwidm1tX3R5cGUiOiJlYzIi)"
        R"(fSx7Im1lYXN1cmVtZW50IjoiMDMwMzAzMDMwMzAzMDMwMzAzMDMwMzAzMDMwMzAzMDMwMzAzMDMwMzAzMDMwMzAzMDMwMzAzMDMw)"
        R"(MzAzMDMwMzAzMDMwMzAzMDMwMzAzMDMwMzAzMDMwMzAzMDMwMzAzIiwidmNwdV90eXBlIjoiRVBZQy1HZW5vYSIsInZjcHVzIjo4)"
        R"(LCJ2bW1fdHlwZSI6ImdjZSJ9XSwic291cmNlX2RhdGVfZXBvY2giOjE3MDAwMDAwMDAsInRvb2wiOiJjdm0gMC4xLjAifSwicHJl)"
        R"(ZGljYXRlVHlwZSI6Imh0dHBzOi8vY3ZtaW5pdC5kZXYvcmVsZWFzZS92MSIsInN1YmplY3QiOlt7ImRpZ2VzdCI6eyJzaGEyNTYi)"
        R"(OiJhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhIn0sIm5hbWUi)"
        R"(OiJmaXJtd2FyZSJ9LHsiZGlnZXN0Ijp7InNoYTI1NiI6ImJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJi)"
        R"(YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmIifSwibmFtZSI6Imtlcm5lbCJ9LHsiZGlnZXN0Ijp7InNoYTI1NiI6ImNjY2NjY2NjY2Nj)"
        R"(Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2MifSwibmFtZSI6ImluaXRyZCJ9LHsi)"
        R"(ZGlnZXN0Ijp7InNoYTI1NiI6ImRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRk)"
        R"(ZGRkZGRkZGQifSwibmFtZSI6ImluaXQtZGF0YSJ9XX0=","payloadType":"application/vnd.in-toto+json","signatur)"
        R"(es":[{"keyid":"9a82517f9af19416d98fdbcf193726b3a95c0b6fec1d51884bf3e1b739ba2ef4","sig":"Fb1wGgiDO4vJ)"
        R"(iwdMoGIxmn7fs0mUouaJbtvbdD9iU+1T8DWUHSdVsY8vpFaF4sao6kfAoa564G5ElbY8Wx2uBw=="}]},"mediaType":"applic)"
        R"(ation/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"9a82517f9af194)"
        R"(16d98fdbcf193726b3a95c0b6fec1d51884bf3e1b739ba2ef4"},"tlogEntries":[]}})";
    Secret<proto::ED25519_SEED_SIZE> seed;
    for (uint8_t& b : seed.expose())
        b = 0x42;
    SecretBytes pem = proto::ed25519_private_pem(proto::Ed25519KeyPair::from_seed(seed));
    SigningKey key =
        test::take(SigningKey::parse_pem({reinterpret_cast<const char*>(pem.expose().data()), pem.size()}));
    VerifyOptions options = test::options_for(key);
    auto verified = verify_bundle(bundle, options);
    REQUIRE_MESSAGE(verified.ok(), std::string(verified.ok() ? "" : verified.error().message()));
    CHECK(verified->statement.predicate.shapes.size() == 3);
    CHECK(verified->statement.subjects.size() == 4);
    CHECK(make_bundle(verified->statement, key).value() == bundle);
    options.now = 1800000000;
    CHECK(verify_bundle(bundle, options).error().code() == Errc::Policy);
}
