#include <doctest.h>

#include <string>

#include "api/requests.h"
#include "base/base64.h"

using namespace cvm;
using namespace cvm::agent::api;
using cvm::agent::sealing::Policy;

namespace {

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

std::string seal_body(const std::string& policy, const std::string& context, const std::string& plaintext)
{
    return "{\"policy\":\"" + policy + "\",\"context\":\"" + context + "\",\"plaintext\":\"" + plaintext + "\"}";
}

std::string refusal(std::string_view body, bool seal = true)
{
    if (seal) {
        auto got = parse_seal_request(body);
        REQUIRE_FALSE(got.ok());
        CHECK(got.error().code() == Errc::Format);
        return message_of(got.error());
    }
    auto got = parse_unseal_request(body);
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code() == Errc::Format);
    return message_of(got.error());
}

}  // namespace

TEST_CASE("seal requests: a policy by name, a printable context, base64 plaintext into wiping storage")
{
    auto ok = parse_seal_request(seal_body("chip-only", "app/db key", base64_encode(as_bytes("secret"))));
    REQUIRE(ok.ok());
    CHECK(ok->policy == Policy::ChipOnly);
    CHECK(ok->context == "app/db key");
    CHECK(ok->plaintext.size() == 6);
    CHECK(std::string(reinterpret_cast<const char*>(ok->plaintext.expose().data()), 6) == "secret");
    auto empty = parse_seal_request(seal_body("measurement-only", "c", ""));
    REQUIRE(empty.ok());
    CHECK(empty->plaintext.empty());
    CHECK(parse_seal_request(seal_body("measurement-and-chip", std::string(256, 'x'),
                                       base64_encode(Bytes(agent::sealing::MAX_PLAINTEXT, 1))))
              .ok());
}

TEST_CASE("seal requests: every malformed member is refused by name")
{
    const std::string b64 = base64_encode(as_bytes("x"));
    CHECK(refusal(seal_body("chip", "c", b64)) ==
          "seal request.policy: \"chip\", expected \"measurement-and-chip\", \"measurement-only\" or \"chip-only\"");
    CHECK(refusal(seal_body("CHIP-ONLY", "c", b64)).find("seal request.policy") == 0);
    CHECK(refusal(seal_body("chip-only", "", b64)) == "seal request: context: 0 bytes, expected 1 to 256");
    CHECK(refusal(seal_body("chip-only", std::string(257, 'a'), b64)) ==
          "seal request: context: 257 bytes, expected 1 to 256");
    CHECK(refusal(seal_body("chip-only", "a\\nb", b64)) ==
          "seal request: context: byte 1 is 0x0a, expected printable ASCII (0x20 to 0x7e)");
    CHECK(refusal(seal_body("chip-only", "a\\u0000b", b64)).find("byte 1 is 0x00") != std::string::npos);
    CHECK(refusal(seal_body("chip-only", "caf\xc3\xa9", b64)).find("byte 3 is 0xc3") != std::string::npos);
    CHECK(refusal(seal_body("chip-only", "c", "eA")) ==
          "seal request.plaintext: not canonical base64 (RFC 4648, padded)");
    CHECK(refusal(seal_body("chip-only", "c", "eB==")).find("not canonical base64") != std::string::npos);
    CHECK(refusal(seal_body("chip-only", "c", "eA==\\n")).find("not canonical base64") != std::string::npos);
    // One more group of four than 65536 bytes need is refused before decoding.
    CHECK(refusal(seal_body("chip-only", "c", base64_encode(Bytes(agent::sealing::MAX_PLAINTEXT + 3, 1)))) ==
          "seal request.plaintext: 87388 base64 characters, expected at most 87384 (65536 bytes)");
    CHECK(refusal(R"({"policy":"chip-only","context":"c"})").find("plaintext") != std::string::npos);
    CHECK(refusal(R"({"policy":"chip-only","context":"c","plaintext":"eA==","tcb_version":1})").find("tcb_version") !=
          std::string::npos);
    CHECK(refusal(R"({"policy":"chip-only","policy":"chip-only","context":"c","plaintext":"eA=="})").size() > 0);
    CHECK(refusal(R"({"policy":1,"context":"c","plaintext":"eA=="})").find("policy") != std::string::npos);
    CHECK(refusal(R"({"policy":"chip-only","context":["c"],"plaintext":"eA=="})").find("context") != std::string::npos);
    CHECK(refusal("[]").size() > 0);
    CHECK(refusal("").size() > 0);
}

TEST_CASE("seal requests: a plaintext one byte over the limit is refused once decoded")
{
    // 65537 bytes encode to 87384 characters: within the text bound, over the byte bound.
    auto got =
        parse_seal_request(seal_body("chip-only", "c", base64_encode(Bytes(agent::sealing::MAX_PLAINTEXT + 1, 1))));
    REQUIRE_FALSE(got.ok());
    CHECK(message_of(got.error()) == "seal request.plaintext: 65537 bytes, expected at most 65536");
}

TEST_CASE("unseal requests: a context and a base64 blob, bounded before decoding")
{
    auto ok = parse_unseal_request(R"({"context":"app/db","blob":"Q1ZNU0VBTDE="})");
    REQUIRE(ok.ok());
    CHECK(ok->context == "app/db");
    CHECK(ok->blob == Bytes{'C', 'V', 'M', 'S', 'E', 'A', 'L', '1'});
    CHECK(refusal(R"({"context":"app/db","blob":""})", false) == "unseal request.blob: 0 bytes, expected 1 to 65862");
    CHECK(refusal(R"({"context":"app/db","blob":"Q1ZNU0VBTDE"})", false) ==
          "unseal request.blob: not canonical base64 (RFC 4648, padded)");
    CHECK(refusal(R"({"context":"","blob":"Q1ZNU0VBTDE="})", false) ==
          "unseal request: context: 0 bytes, expected 1 to 256");
    CHECK(refusal(R"({"blob":"Q1ZNU0VBTDE="})", false).find("context") != std::string::npos);
    CHECK(refusal(R"({"context":"c","blob":"Q1ZNU0VBTDE=","policy":"chip-only"})", false).find("policy") !=
          std::string::npos);
    std::string huge =
        "{\"context\":\"c\",\"blob\":\"" + base64_encode(Bytes(agent::sealing::MAX_BLOB_SIZE + 3, 0)) + "\"}";
    CHECK(refusal(huge, false) == "unseal request.blob: 87820 base64 characters, expected at most 87816 (65862 bytes)");
    // MAX_BLOB_SIZE is a multiple of 3: one byte more already needs another group of four.
    std::string over =
        "{\"context\":\"c\",\"blob\":\"" + base64_encode(Bytes(agent::sealing::MAX_BLOB_SIZE + 1, 0)) + "\"}";
    CHECK(refusal(over, false) == "unseal request.blob: 87820 base64 characters, expected at most 87816 (65862 bytes)");
    std::string largest =
        "{\"context\":\"c\",\"blob\":\"" + base64_encode(Bytes(agent::sealing::MAX_BLOB_SIZE, 0)) + "\"}";
    CHECK(parse_unseal_request(largest).ok());
}
