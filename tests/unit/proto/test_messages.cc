#include <doctest.h>

#include <string>

#include "proto/answer.h"
#include "proto/binding.h"
#include "proto/messages.h"
#include "proto/release.h"

using namespace cvm;
using namespace cvm::proto;

namespace {

std::string text_of(const SecretBytes& s)
{
    return {reinterpret_cast<const char*>(s.expose().data()), s.size()};
}

AttestRequest sample_request()
{
    AttestRequest r;
    r.nonce.fill(1);
    r.pubkey.fill(2);
    r.report.assign(REPORT_SIZE, 3);
    r.certs = {Bytes{0x30, 0x00}};
    r.resources = {"db", "data"};
    r.canonical_request = canonical_request(r.resources).value();
    return r;
}

std::string error_of(std::string_view body)
{
    auto r = parse_attest_request(body);
    REQUIRE_FALSE(r.ok());
    return std::string(r.error().message());
}

}  // namespace

TEST_CASE("binding: the report_data and transcript layouts are fixed (independent computation)")
{
    Nonce nonce;
    nonce.fill(0x11);
    std::array<uint8_t, 32> key;
    key.fill(0x22);
    // Expected values computed independently with Python's hashlib from docs/cvmkb-1.md §4.
    RequestHash h = request_hash("{\"resources\":[\"db\"]}");
    CHECK(to_hex(h) == "ad0236efd390ce4cce41233dc586bdb70b8b1eebf5bfe4828641f6ba328a8c9d");
    ReportData rd = report_data(nonce, key, h);
    CHECK(to_hex(rd) == "0795110699e2cc8939984d7ed5241701af669cacb6cd02d5dab94701d76080f7"
                        "49b7d8131908acf0befa25d562dc5efc024fd02ca0b0df7102a214b6780292ad");
    Bytes enc(32, 0x33), ct(20, 0x44);
    CHECK(to_hex(transcript(rd, enc, ct)) == "e18d33e57a95b8d07e5da8f8c054cb30cf62a8662b9ba9a60e911e0508c109a4"
                                             "e948e7a80a43520ff990f110d8a5964492a1490638bcbb2ca38ca308ce48e907");
    // Any change to any input changes the binding.
    Nonce other = nonce;
    other[31] ^= 1;
    CHECK(report_data(other, key, h) != rd);
    auto key2 = key;
    key2[0] ^= 1;
    CHECK(report_data(nonce, key2, h) != rd);
    RequestHash h2 = h;
    h2[5] ^= 1;
    CHECK(report_data(nonce, key, h2) != rd);
}

TEST_CASE("attest request: round trip, canonical request, certs optional")
{
    AttestRequest r = sample_request();
    CHECK(r.canonical_request == "{\"resources\":[\"db\",\"data\"]}");
    auto back = parse_attest_request(serialize_attest_request(r));
    REQUIRE(back.ok());
    CHECK(back->nonce == r.nonce);
    CHECK(back->pubkey == r.pubkey);
    CHECK(back->report == r.report);
    CHECK(back->certs == r.certs);
    CHECK(back->resources == r.resources);
    CHECK(back->canonical_request == r.canonical_request);

    r.certs.clear();
    std::string body = serialize_attest_request(r);
    CHECK(body.find("certs") == std::string::npos);
    REQUIRE(parse_attest_request(body).ok());
    // Whitespace and member order do not change the canonical request the broker hashes.
    std::string spaced = body;
    spaced.replace(spaced.find("{\"resources\""), 1, "{ ");
    CHECK(parse_attest_request(spaced).value().canonical_request == r.canonical_request);
}

TEST_CASE("attest request: every malformed member is named")
{
    AttestRequest r = sample_request();
    std::string good = serialize_attest_request(r);
    auto with = [&](const std::string& from, const std::string& to) {
        std::string s = good;
        size_t at = s.find(from);
        REQUIRE(at != std::string::npos);
        return s.replace(at, from.size(), to);
    };
    CHECK(error_of("{").find("not valid JSON") != std::string::npos);
    CHECK(error_of("[]").find("expected a JSON object") != std::string::npos);
    CHECK(error_of(with("{\"nonce\"", "{\"extra\":1,\"nonce\"")).find("attest.extra: unknown member") !=
          std::string::npos);
    CHECK(error_of(with("{\"nonce\"", "{\"pubkey\":\"\",\"nonce\"")).find("attest.pubkey: duplicate member") !=
          std::string::npos);
    CHECK(error_of(with("\"nonce\":\"AQEB", "\"nonce\":\"AQE")).find("attest.nonce") != std::string::npos);
    CHECK(error_of(with("\"pubkey\":\"", "\"pubkey\":\"AAAA")).find("attest.pubkey") != std::string::npos);
    CHECK(error_of(with("\"report\":\"AwMD", "\"report\":\"AwMDAwMD")).find("attest.report") != std::string::npos);
    CHECK(error_of(with("\"db\"", "\"../db\"")).find("attest.request.resources[0]") != std::string::npos);
    CHECK(error_of(with("\"data\"", "\"db\"")).find("listed twice") != std::string::npos);
    CHECK(error_of(with("\"resources\"", "\"resources\":[],\"more\"")).find("attest.request.more") !=
          std::string::npos);
    CHECK(error_of(with("\"certs\":[", "\"certs\":[1,")).find("attest.certs[0]") != std::string::npos);
    CHECK(error_of(with("\"certs\":[", "\"certs\":[\"MAA=\",\"MAA=\",\"MAA=\",\"MAA=\",")).find("too many") !=
          std::string::npos);
    CHECK(error_of(std::string(MAX_MESSAGE_BYTES + 1, ' ')).find("exceeds") != std::string::npos);
}

TEST_CASE("challenge, answer and error objects round-trip; unknown codes are refused")
{
    Challenge c{{}, 60};
    c.nonce.fill(9);
    auto back = parse_challenge(serialize_challenge(c));
    REQUIRE(back.ok());
    CHECK(back->nonce == c.nonce);
    CHECK(back->expires_in == 60);
    CHECK(check_challenge_request("").ok());
    CHECK(check_challenge_request("{}").ok());
    CHECK_FALSE(check_challenge_request("{\"a\":1}").ok());

    ErrorBody e = error_body(ErrorCode::KdsUnavailable, "KDS is down");
    e.claim = "vcek";
    e.expected = {"x", "y"};
    e.got = "z";
    e.simulated = true;
    auto eb = parse_error(serialize_error(e));
    REQUIRE(eb.ok());
    CHECK(eb->code == ErrorCode::KdsUnavailable);
    CHECK(eb->retryable);
    CHECK(eb->expected == e.expected);
    CHECK(eb->simulated);
    CHECK(http_status(ErrorCode::KdsUnavailable) == 503);
    CHECK(http_status(ErrorCode::MeasurementMismatch) == 403);
    CHECK_FALSE(parse_error("{\"error\":{\"code\":\"MAYBE\",\"detail\":\"\",\"retryable\":false}}").ok());
    for (int i = 0; i <= static_cast<int>(ErrorCode::Internal); ++i) {
        auto code = static_cast<ErrorCode>(i);
        CHECK(error_code_from_name(error_code_name(code)) == code);
    }
}

TEST_CASE("release: serialized into wiping storage, parsed in place, strict")
{
    Release r;
    r.secrets.push_back({"db", SecretBytes::copy_of(Bytes{'p', 'w', 0, '"', '\\'}), std::string("DB_PASSWORD")});
    r.volumes.push_back({"data", SecretBytes::copy_of(Bytes(64, 0xfe))});
    SecretBytes text = serialize_release(r).release_value();
    auto back = parse_release(text.expose());
    REQUIRE(back.ok());
    REQUIRE(back->secrets.size() == 1);
    CHECK(back->secrets[0].value.equals(r.secrets[0].value));
    CHECK(back->secrets[0].env == r.secrets[0].env);
    CHECK(back->volumes[0].key.equals(r.volumes[0].key));

    auto bad = [](std::string s) { return parse_release({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); };
    CHECK_FALSE(bad("{\"secrets\":[]}").ok());
    CHECK_FALSE(bad("{\"secrets\":[{\"name\":\"a\",\"value\":\"AA\"}],\"volumes\":[]}").ok());
    CHECK_FALSE(
        bad("{\"secrets\":[{\"name\":\"a\",\"value\":\"AA==\"}],\"volumes\":[{\"name\":\"a\",\"key\":\"AA==\"}]}")
            .ok());
    CHECK_FALSE(bad("{\"secrets\":[{\"name\":\"a\",\"value\":\"AA==\",\"env\":\"a b\"}],\"volumes\":[]}").ok());
    CHECK(bad("{\"secrets\":[],\"volumes\":[]}").ok());

    Release invalid;
    invalid.secrets.push_back({"a/b", SecretBytes(1), std::nullopt});
    CHECK_FALSE(serialize_release(invalid).ok());
}

TEST_CASE("answer: opens only with the pinned broker key, the agent's key and this report_data")
{
    Ed25519KeyPair broker = Ed25519KeyPair::generate();
    X25519KeyPair agent = X25519KeyPair::generate();
    ReportData rd;
    rd.fill(7);
    std::string plain = "{\"secrets\":[],\"volumes\":[]}";
    ByteView pt(reinterpret_cast<const uint8_t*>(plain.data()), plain.size());
    AttestAnswer a = seal_answer(broker, agent.public_key(), rd, pt).release_value();
    auto opened = open_answer(broker.public_key(), agent, rd, a);
    REQUIRE(opened.ok());
    CHECK(text_of(opened.value()) == plain);

    CHECK(open_answer(Ed25519KeyPair::generate().public_key(), agent, rd, a).error().code() == Errc::Crypto);
    AttestAnswer unsigned_answer = a;
    unsigned_answer.sig.fill(0);
    CHECK_FALSE(open_answer(broker.public_key(), agent, rd, unsigned_answer).ok());
    CHECK_FALSE(open_answer(broker.public_key(), X25519KeyPair::generate(), rd, a).ok());  // sealed to another key
    ReportData other = rd;
    other[0] ^= 1;
    CHECK_FALSE(open_answer(broker.public_key(), agent, other, a).ok());
    AttestAnswer flipped = a;
    flipped.ct[0] ^= 1;
    CHECK(std::string(open_answer(broker.public_key(), agent, rd, flipped).error().message()).find("signature") !=
          std::string::npos);
    // A broker that signs a ciphertext sealed to another key still cannot get past the agent.
    X25519KeyPair stranger = X25519KeyPair::generate();
    AttestAnswer to_stranger = seal_answer(broker, stranger.public_key(), rd, pt).release_value();
    auto wrong = open_answer(broker.public_key(), agent, rd, to_stranger);
    REQUIRE_FALSE(wrong.ok());
    CHECK(std::string(wrong.error().message()).find("signature") == std::string::npos);

    auto parsed = parse_attest_answer(serialize_attest_answer(a));
    REQUIRE(parsed.ok());
    CHECK(parsed->ct == a.ct);
    CHECK_FALSE(parse_attest_answer("{\"enc\":\"\",\"ct\":\"\",\"sig\":\"\",\"x\":1}").ok());
}

TEST_CASE("valid_kbs_path: three resource-name segments, as Trustee's resource paths")
{
    CHECK(proto::valid_kbs_path("default/cvminit/data"));
    CHECK(proto::valid_kbs_path("repo-1/key_type/tag.v2"));
    for (const char* bad :
         {"", "a", "a/b", "a/b/c/d", "/a/b", "a/b/", "a//c", "a/.b/c", "a/b/c d", "a/b/c\n", "a/b/../c", "a/b\\c/d"})
        CHECK_MESSAGE(!proto::valid_kbs_path(bad), bad);
    CHECK(proto::valid_kbs_path(std::string(64, 'a') + "/b/c"));
    CHECK_FALSE(proto::valid_kbs_path(std::string(65, 'a') + "/b/c"));
}
