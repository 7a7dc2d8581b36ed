// The volume states of the attested request (docs/cvmkb-1.md §3.3), the VOLUME_ROLLBACK code and
// the recovery key of a released volume: what is written, what is read back, and every shape the
// parsers refuse.
#include <doctest.h>

#include <string>

#include "proto/binding.h"
#include "proto/messages.h"
#include "proto/release.h"

using namespace cvm;
using namespace cvm::proto;

namespace {

constexpr const char* UUID = "0f6e3c1a-2b4d-4e5f-8a9b-0c1d2e3f4a5b";

VolumeReport ready(std::string name, uint64_t generation)
{
    return {std::move(name), VolumeState::Ready, generation, UUID};
}

// An attest body around `request` (its text as it is), for the parser's view of it.
std::string body_with(const std::string& request)
{
    AttestRequest r;
    r.nonce.fill(1);
    r.pubkey.fill(2);
    r.report.assign(REPORT_SIZE, 3);
    r.canonical_request = request;
    return serialize_attest_request(r);
}

std::string refusal(const std::string& request)
{
    auto r = parse_attest_request(body_with(request));
    REQUIRE_FALSE(r.ok());
    return std::string(r.error().message());
}

}  // namespace

TEST_CASE("volume reports: canonical text, members in JCS order, left out when empty")
{
    // Without volumes the request is the one agents have always sent: the §4 test vector's hash.
    CHECK(canonical_request({"db"}).value() == "{\"resources\":[\"db\"]}");
    CHECK(to_hex(request_hash(canonical_request({"db"}).value())) ==
          "ad0236efd390ce4cce41233dc586bdb70b8b1eebf5bfe4828641f6ba328a8c9d");

    std::string text =
        canonical_request({"db", "data", "logs"}, {ready("data", 7), {"logs", VolumeState::Blank, 0, ""}}).value();
    CHECK(text == std::string("{\"resources\":[\"db\",\"data\",\"logs\"],\"volumes\":[{\"generation\":7,\"name\":"
                              "\"data\",\"state\":\"ready\",\"uuid\":\"") +
                      UUID + "\"},{\"generation\":0,\"name\":\"logs\",\"state\":\"blank\",\"uuid\":\"\"}]}");
    auto parsed = parse_attest_request(body_with(text));
    REQUIRE(parsed.ok());
    CHECK(parsed->canonical_request == text);
    REQUIRE(parsed->volumes.size() == 2);
    CHECK(parsed->volumes[0] == ready("data", 7));
    CHECK(parsed->volumes[1] == VolumeReport{"logs", VolumeState::Blank, 0, ""});

    // The largest generation every JSON reader holds exactly, and a formatting volume.
    VolumeReport top{"data", VolumeState::Formatting, MAX_VOLUME_GENERATION, UUID};
    auto big = parse_attest_request(body_with(canonical_request({"data"}, {top}).value()));
    REQUIRE(big.ok());
    CHECK(big->volumes[0] == top);

    // The states are attested: a changed generation changes the request's hash.
    CHECK(request_hash(canonical_request({"data"}, {ready("data", 1)}).value()) !=
          request_hash(canonical_request({"data"}, {ready("data", 2)}).value()));
}

TEST_CASE("volume reports: the composer refuses what the broker would")
{
    CHECK_FALSE(canonical_request({"data"}, {ready("other", 1)}).ok());                           // not a resource
    CHECK_FALSE(canonical_request({"data"}, {ready("data", 1), ready("data", 2)}).ok());          // twice
    CHECK_FALSE(canonical_request({"data"}, {{"data", VolumeState::Formatting, 0, UUID}}).ok());  // formatting at 0
    CHECK_FALSE(canonical_request({"data"}, {ready("data", MAX_VOLUME_GENERATION + 1)}).ok());    // past 2^53-1
    CHECK_FALSE(canonical_request({"data"}, {{"data", VolumeState::Blank, 1, ""}}).ok());         // blank at 1
    CHECK_FALSE(canonical_request({"data"}, {{"data", VolumeState::Blank, 0, UUID}}).ok());       // blank with a uuid
    CHECK_FALSE(canonical_request({"data"}, {{"data", VolumeState::Ready, 3, ""}}).ok());         // ready without one
    CHECK_FALSE(canonical_request({"a/b"}).ok());
    CHECK_FALSE(canonical_request({"data", "data"}).ok());
}

TEST_CASE("volume reports: every malformed member is refused by name")
{
    auto with = [](std::string volumes) { return "{\"resources\":[\"data\"],\"volumes\":" + volumes + "}"; };
    auto one = [&](std::string members) { return with("[{" + members + "}]"); };
    std::string u = std::string("\"uuid\":\"") + UUID + "\"";
    std::string good = "\"generation\":3,\"name\":\"data\",\"state\":\"ready\"," + u;
    REQUIRE(parse_attest_request(body_with(one(good))).ok());

    CHECK(refusal(with("[]")).find("attest.request.volumes: empty") != std::string::npos);
    CHECK(refusal(with("{}")).find("attest.request.volumes") != std::string::npos);
    CHECK(refusal(with("[\"data\"]")).find("attest.request.volumes[0]") != std::string::npos);
    CHECK(refusal("{\"resources\":[\"data\"],\"volume\":[]}").find("attest.request") != std::string::npos);
    // Each member missing, then one too many.
    CHECK(refusal(one("\"name\":\"data\",\"state\":\"ready\"," + u)).find("generation") != std::string::npos);
    CHECK(refusal(one("\"generation\":3,\"state\":\"ready\"," + u)).find("name") != std::string::npos);
    CHECK(refusal(one("\"generation\":3,\"name\":\"data\"," + u)).find("state") != std::string::npos);
    CHECK(refusal(one("\"generation\":3,\"name\":\"data\",\"state\":\"ready\"")).find("uuid") != std::string::npos);
    CHECK(refusal(one(good + ",\"seqid\":1")).find("attest.request.volumes[0]") != std::string::npos);
    CHECK(refusal(one(good + ",\"name\":\"data\"")).find("attest.request.volumes[0]") != std::string::npos);
    // Names.
    CHECK(refusal(one("\"generation\":3,\"name\":\"db\",\"state\":\"ready\"," + u)).find("not among") !=
          std::string::npos);
    CHECK(refusal(one("\"generation\":3,\"name\":7,\"state\":\"ready\"," + u)).find("volumes[0].name") !=
          std::string::npos);
    CHECK(refusal(with("[{" + good + "},{" + good + "}]")).find("volumes[1].name: 'data' is reported twice") !=
          std::string::npos);
    // States.
    for (const char* state : {"\"Ready\"", "\"open\"", "\"\"", "1", "null"})
        CHECK(refusal(one("\"generation\":3,\"name\":\"data\",\"state\":" + std::string(state) + "," + u))
                  .find("volumes[0].state") != std::string::npos);
    // Generations: integers from 0 to 2^53-1 only.
    for (const char* g : {"-1", "3.0", "3e0", "\"3\"", "9007199254740992", "18446744073709551616", "true"})
        CHECK(refusal(one("\"generation\":" + std::string(g) + ",\"name\":\"data\",\"state\":\"ready\"," + u))
                  .find("volumes[0].generation") != std::string::npos);
    REQUIRE(parse_attest_request(
                body_with(one("\"generation\":9007199254740991,\"name\":\"data\",\"state\":\"ready\"," + u)))
                .ok());
    // UUIDs: the LUKS2 header's form, lower case, 36 characters.
    for (const char* bad : {"0F6E3C1A-2B4D-4E5F-8A9B-0C1D2E3F4A5B", "0f6e3c1a2b4d4e5f8a9b0c1d2e3f4a5b",
                            "0f6e3c1a-2b4d-4e5f-8a9b-0c1d2e3f4a5", "0f6e3c1a-2b4d-4e5f-8a9b-0c1d2e3f4a5bb",
                            "0f6e3c1a-2b4d-4e5f-8a9b_0c1d2e3f4a5b", "", "0f6e3c1a-2b4d-4e5f-8a9b-0c1d2e3f4a5g"})
        CHECK(
            refusal(one("\"generation\":3,\"name\":\"data\",\"state\":\"ready\",\"uuid\":\"" + std::string(bad) + "\""))
                .find("volumes[0].uuid") != std::string::npos);
    // Consistency: blank with generation 0 and uuid "", formatting from generation 1; ready may
    // be 0 (a volume without the agent's token, to adopt: the broker's generation decides).
    auto adopt = parse_attest_request(body_with(one("\"generation\":0,\"name\":\"data\",\"state\":\"ready\"," + u)));
    REQUIRE(adopt.ok());
    CHECK(adopt->volumes[0] == ready("data", 0));
    CHECK(canonical_request({"data"}, {ready("data", 0)}).ok());
    CHECK(refusal(one("\"generation\":0,\"name\":\"data\",\"state\":\"formatting\"," + u)).find("generation: 0") !=
          std::string::npos);
    CHECK(refusal(one("\"generation\":1,\"name\":\"data\",\"state\":\"blank\",\"uuid\":\"\"")).find("generation: 1") !=
          std::string::npos);
    CHECK(refusal(one("\"generation\":0,\"name\":\"data\",\"state\":\"blank\"," + u)).find("volumes[0].uuid") !=
          std::string::npos);
    REQUIRE(parse_attest_request(body_with(one("\"generation\":0,\"name\":\"data\",\"state\":\"blank\",\"uuid\":\"\"")))
                .ok());
}

TEST_CASE("volume reports: the attest-ratls request carries them the same way")
{
    AttestRatlsRequest r;
    r.nonce.fill(4);
    r.pubkey.fill(5);
    r.canonical_request = canonical_request({"data"}, {ready("data", 2)}).value();
    auto back = parse_attest_ratls_request(serialize_attest_ratls_request(r));
    REQUIRE(back.ok());
    REQUIRE(back->volumes.size() == 1);
    CHECK(back->volumes[0] == ready("data", 2));
    r.canonical_request = "{\"resources\":[\"data\"],\"volumes\":[{\"generation\":2,\"name\":\"data\",\"state\":"
                          "\"ready\",\"uuid\":\"\"}]}";
    auto bad = parse_attest_ratls_request(serialize_attest_ratls_request(r));
    REQUIRE_FALSE(bad.ok());
    CHECK(std::string(bad.error().message()).find("attest-ratls.request.volumes[0].uuid") != std::string::npos);
}

TEST_CASE("VOLUME_ROLLBACK: a final 403, named and parsed")
{
    CHECK(error_code_name(ErrorCode::VolumeRollback) == "VOLUME_ROLLBACK");
    CHECK(error_code_from_name("VOLUME_ROLLBACK") == ErrorCode::VolumeRollback);
    CHECK(http_status(ErrorCode::VolumeRollback) == 403);
    CHECK_FALSE(is_retryable(ErrorCode::VolumeRollback));
    ErrorBody e = error_body(ErrorCode::VolumeRollback, "volume data: generation 3, the broker knows 5");
    e.claim = "volume.generation";
    auto back = parse_error(serialize_error(e));
    REQUIRE(back.ok());
    CHECK(back->code == ErrorCode::VolumeRollback);
    CHECK(back->claim == "volume.generation");
    CHECK_FALSE(back->retryable);
}

TEST_CASE("release: a volume's recovery key is written only when set, and read back")
{
    Release r;
    r.volumes.push_back({"data", SecretBytes::copy_of(Bytes(32, 0x11)), SecretBytes::copy_of(Bytes(64, 0x22))});
    r.volumes.push_back({"logs", SecretBytes::copy_of(Bytes(32, 0x33)), SecretBytes()});
    SecretBytes text = serialize_release(r).release_value();
    std::string s(reinterpret_cast<const char*>(text.expose().data()), text.size());
    CHECK(s.find("\"recovery\"") == s.rfind("\"recovery\""));  // once: logs has none
    CHECK(s.find("{\"name\":\"logs\",\"key\":\"MzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzM=\"}") != std::string::npos);
    auto back = parse_release(text.expose());
    REQUIRE(back.ok());
    CHECK(back->volumes[0].recovery.equals(r.volumes[0].recovery));
    CHECK(back->volumes[1].recovery.empty());

    auto bad = [](std::string t) { return parse_release({reinterpret_cast<const uint8_t*>(t.data()), t.size()}); };
    CHECK(bad("{\"secrets\":[],\"volumes\":[{\"name\":\"d\",\"key\":\"AA==\",\"recovery\":\"AQ==\"}]}").ok());
    CHECK_FALSE(bad("{\"secrets\":[],\"volumes\":[{\"name\":\"d\",\"key\":\"AA==\",\"recovery\":\"\"}]}").ok());
    CHECK_FALSE(bad("{\"secrets\":[],\"volumes\":[{\"name\":\"d\",\"key\":\"AA==\",\"recovery\":\"AQ\"}]}").ok());
    CHECK_FALSE(bad("{\"secrets\":[],\"volumes\":[{\"name\":\"d\",\"key\":\"AA==\",\"recovery\":1}]}").ok());
    CHECK_FALSE(bad("{\"secrets\":[],\"volumes\":[{\"name\":\"d\",\"key\":\"AA==\",\"recover\":\"AQ==\"}]}").ok());
    CHECK_FALSE(bad("{\"secrets\":[],\"volumes\":[{\"name\":\"d\",\"key\":\"AA==\",\"recovery\":\"AQ==\",\"recovery\":"
                    "\"AQ==\"}]}")
                    .ok());
}
