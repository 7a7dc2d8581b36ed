// The Sigstore trusted root's tlogs (parse_trusted_root, load_trusted_root): the public-good root
// as Sigstore's TUF repository serves it, and each malformation refused naming the member.
#include <doctest.h>

#include <string>

#include "base/base64.h"
#include "crypto/digest.h"
#include "release/tlog.h"
#include "release_fixture.h"
#include "tlog_fixture.h"
#include "vectors.h"

using namespace cvm;
using namespace cvm::release;

namespace {

const test::TestLog& test_log()
{
    static test::TestLog log;
    return log;
}

// One tlog of the test log, with `valid_for` as its publicKey.validFor and the members replaced
// by the caller as needed.
std::string tlog_json(std::string valid_for = "{\"start\":\"2020-09-13T12:26:40Z\"}",
                      std::string key_details = "PKIX_ECDSA_P256_SHA_256")
{
    return "{\"baseUrl\":\"https://rekor.example.dev\",\"hashAlgorithm\":\"SHA2_256\",\"publicKey\":{\"rawBytes\":\"" +
           base64_encode(test_log().key().public_key().spki_der()) + "\",\"keyDetails\":\"" + key_details +
           "\",\"validFor\":" + valid_for + "},\"logId\":{\"keyId\":\"" + base64_encode(test_log().log_id()) + "\"}}";
}

std::string root_json(const std::string& tlogs)
{
    return "{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\",\"tlogs\":[" + tlogs +
           "],\"certificateAuthorities\":[],\"ctlogs\":[],\"timestampAuthorities\":[]}";
}

void refused(const std::string& json, const char* expected, Errc code)
{
    auto result = parse_trusted_root(json);
    REQUIRE_FALSE(result.ok());
    CAPTURE(result.error().message());
    CHECK(result.error().code() == code);
    CHECK(std::string(result.error().message()).find(expected) != std::string::npos);
}

int64_t valid_from(const std::string& start)
{
    auto root = parse_trusted_root(root_json(tlog_json("{\"start\":\"" + start + "\"}")));
    REQUIRE_MESSAGE(root.ok(), start << ": " << std::string(root.ok() ? "" : root.error().message()));
    return root->tlogs[0].valid_from;
}

}  // namespace

TEST_CASE("the public-good trusted root: Rekor v1 (P-256) and Rekor v2 (Ed25519) logs")
{
    auto root = test::take(load_trusted_root(test::vector_path("sigstore/trusted_root_public_good.json")));
    REQUIRE(root.tlogs.size() == 2);
    const TransparencyLog& v1 = root.tlogs[0];
    CHECK(v1.base_url == "https://rekor.sigstore.dev");
    CHECK(v1.key.kind() == KeyKind::EcdsaP256);
    CHECK(base64_encode(v1.log_id) == "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=");
    CHECK(v1.log_id == crypto::Sha256::of(v1.key.spki_der()));  // Rekor v1: the log id is the key's hash
    CHECK(v1.valid_from == 1610452407);                         // 2021-01-12T11:53:27Z
    CHECK_FALSE(v1.valid_until.has_value());
    const TransparencyLog& v2 = root.tlogs[1];
    CHECK(v2.base_url == "https://log2025-1.rekor.sigstore.dev");
    CHECK(v2.key.kind() == KeyKind::Ed25519);
    CHECK(v2.valid_from == 1758585600);  // 2025-09-23T00:00:00Z
}

TEST_CASE("a root of the test log, with an end of validity")
{
    auto root = test::take(parse_trusted_root(
        root_json(tlog_json("{\"start\":\"2020-09-13T12:26:40Z\",\"end\":\"2030-01-01T00:00:00Z\"}"))));
    REQUIRE(root.tlogs.size() == 1);
    CHECK(root.tlogs[0].log_id == test_log().log_id());
    CHECK(root.tlogs[0].key.spki_der() == test_log().key().public_key().spki_der());
    CHECK(root.tlogs[0].valid_from == test::TestLog::VALID_FROM);
    CHECK(root.tlogs[0].valid_until == 1893456000);
}

TEST_CASE("RFC 3339 times as protobuf's JSON mapping writes them")
{
    CHECK(valid_from("2021-01-12T11:53:27Z") == 1610452407);
    CHECK(valid_from("2021-01-12T11:53:27.000Z") == 1610452407);
    CHECK(valid_from("2021-01-12T11:53:27.999999999Z") == 1610452407);  // fractions dropped
    CHECK(valid_from("2021-01-12t11:53:27z") == 1610452407);
    CHECK(valid_from("2021-01-12T12:53:27+01:00") == 1610452407);
    CHECK(valid_from("2021-01-12T06:23:27-05:30") == 1610452407);
    CHECK(valid_from("2000-02-29T23:59:59Z") == 951868799);
    CHECK(valid_from("1969-12-31T23:00:00Z") == -3600);
    CHECK(valid_from("2016-12-31T23:59:60Z") == 1483228799);  // a leap second reads as :59
    for (const char* bad :
         {"2021-01-12 11:53:27Z", "2021-01-12T11:53:27", "2021-13-01T00:00:00Z", "2021-02-29T00:00:00Z",
          "1900-02-29T00:00:00Z", "2021-04-31T00:00:00Z", "2021-01-12T24:00:00Z", "2021-01-12T11:60:00Z",
          "2021-01-12T11:53:61Z", "2021-01-12T11:53:27.Z", "2021-01-12T11:53:27.1234567890Z",
          "2021-01-12T11:53:27+0100", "2021-01-12T11:53:27+24:00", "21-01-12T11:53:27Z", "2021-1-12T11:53:27Z", "",
          "2021-01-12T11:53:27Zjunk"}) {
        CAPTURE(bad);
        refused(root_json(tlog_json(std::string("{\"start\":\"") + bad + "\"}")),
                "trustedRoot.tlogs[0].publicKey.validFor.start", Errc::Format);
    }
}

TEST_CASE("a log with a key cvm does not verify is left out; a root with no usable log is refused")
{
    std::string rsa = tlog_json("{\"start\":\"2020-09-13T12:26:40Z\"}", "PKIX_RSA_PKCS1V15_2048_SHA256");
    auto root = test::take(parse_trusted_root(root_json(rsa + "," + tlog_json())));
    CHECK(root.tlogs.size() == 1);
    refused(root_json(rsa), "trustedRoot.tlogs: no log with an ECDSA P-256 or Ed25519 key", Errc::Config);
    refused(root_json(""), "trustedRoot.tlogs: no log", Errc::Config);
}

TEST_CASE("malformed roots are refused naming the member")
{
    std::string good = root_json(tlog_json());
    refused(test::replace_once(good, "version=0.1", "version=0.2"), "trustedRoot.mediaType", Errc::Unsupported);
    refused(test::replace_once(good, "\"mediaType\"", "\"mediatype\""), "trustedRoot.mediaType: missing", Errc::Format);
    refused(test::replace_once(good, "\"tlogs\"", "\"tlog\""), "trustedRoot.tlogs: missing", Errc::Format);
    refused(test::replace_once(good, "\"ctlogs\":[]", "\"ctlogs\":[],\"tlogs\":[]"), "trustedRoot.tlogs: duplicate",
            Errc::Format);
    refused(test::replace_once(good, "SHA2_256", "SHA2_384"), "trustedRoot.tlogs[0].hashAlgorithm: \"SHA2_384\"",
            Errc::Unsupported);
    refused(test::replace_once(good, "https://rekor.example.dev", "https://"), "trustedRoot.tlogs[0].baseUrl",
            Errc::Format);
    refused(test::replace_once(good, base64_encode(test_log().log_id()), base64_encode(Bytes(31, 7))),
            "trustedRoot.tlogs[0].logId.keyId", Errc::Format);
    refused(test::replace_once(good, "\"logId\"", "\"logID\""), "trustedRoot.tlogs[0].logId: missing", Errc::Format);
    refused(test::replace_once(good, base64_encode(test_log().key().public_key().spki_der()), "AAAA"),
            "trustedRoot.tlogs[0].publicKey.rawBytes", Errc::Format);
    refused(root_json(tlog_json("{\"start\":\"2020-09-13T12:26:40Z\"}", "PKIX_ED25519")),
            "trustedRoot.tlogs[0].publicKey.rawBytes: not a key of keyDetails PKIX_ED25519", Errc::Format);
    refused(root_json(tlog_json("{}")), "trustedRoot.tlogs[0].publicKey.validFor.start: missing", Errc::Format);
    refused(root_json(tlog_json("{\"start\":\"2020-09-13T12:26:40Z\",\"end\":\"2020-09-13T12:26:39Z\"}")),
            "validFor: end before start", Errc::Format);
    refused(root_json(tlog_json("{\"start\":\"2020-09-13T12:26:40Z\",\"start\":\"2000-01-01T00:00:00Z\"}")),
            "validFor.start: duplicate", Errc::Format);
    refused(root_json(tlog_json("\"2020\"")), "validFor: expected a JSON object", Errc::Format);
    refused(good + "x", "trusted root: not valid JSON", Errc::Format);
    refused(root_json(std::string(1 << 20, ' ')), "at most 1048576", Errc::Format);
}

TEST_CASE("load_trusted_root names the file")
{
    auto missing = load_trusted_root("/nonexistent/trusted_root.json");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == Errc::Io);
    CHECK(std::string(missing.error().message()).find("/nonexistent/trusted_root.json") != std::string::npos);
}
