// The heartbeat message and the signed verdict (proto/heartbeat.h): a heartbeat and an attest
// request can never stand in for each other, and a verdict opens only with the pinned key, over
// the exact body the agent sent.
#include <doctest.h>

#include <string>

#include "proto/heartbeat.h"
#include "proto/messages.h"

using namespace cvm;
using namespace cvm::proto;

namespace {

HeartbeatRequest sample(int64_t interval = 300)
{
    HeartbeatRequest r;
    r.nonce.fill(1);
    r.pubkey.fill(2);
    r.report.assign(REPORT_SIZE, 3);
    r.certs = {Bytes{0x30, 0x00}};
    r.interval = interval;
    r.canonical_request = canonical_heartbeat_request(interval).value();
    return r;
}

ByteView bytes(const std::string& s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// `body` with the first occurrence of `from` replaced by `to`.
std::string replaced(std::string body, const std::string& from, const std::string& to)
{
    size_t at = body.find(from);
    REQUIRE(at != std::string::npos);
    return body.replace(at, from.size(), to);
}

HeartbeatVerdict accepted()
{
    HeartbeatVerdict v;
    v.accepted = true;
    v.interval = 300;
    v.measurement = std::string(96, 'a');
    v.report_id = std::string(64, 'c');
    v.time = 1'800'000'000;
    return v;
}

}  // namespace

TEST_CASE("heartbeat: the canonical request is RFC 8785 and bounds the interval")
{
    CHECK(canonical_heartbeat_request(300).value() == R"({"heartbeat":{"interval":300}})");
    CHECK(canonical_heartbeat_request(MIN_HEARTBEAT_INTERVAL).ok());
    CHECK(canonical_heartbeat_request(MAX_HEARTBEAT_INTERVAL).ok());
    CHECK_FALSE(canonical_heartbeat_request(MIN_HEARTBEAT_INTERVAL - 1).ok());
    CHECK_FALSE(canonical_heartbeat_request(MAX_HEARTBEAT_INTERVAL + 1).ok());
    CHECK(request_hash(canonical_heartbeat_request(300).value()) !=
          request_hash(canonical_heartbeat_request(301).value()));
}

TEST_CASE("heartbeat: a request round-trips and keeps the canonical text the agent hashed")
{
    HeartbeatRequest r = sample();
    auto back = parse_heartbeat_request(serialize_heartbeat_request(r));
    REQUIRE(back.ok());
    CHECK(back->nonce == r.nonce);
    CHECK(back->pubkey == r.pubkey);
    CHECK(back->report == r.report);
    CHECK(back->certs == r.certs);
    CHECK(back->interval == 300);
    CHECK(back->canonical_request == r.canonical_request);
}

TEST_CASE("heartbeat: an attest request is not a heartbeat, and a heartbeat is not an attest request")
{
    AttestRequest attest;
    attest.nonce.fill(1);
    attest.pubkey.fill(2);
    attest.report.assign(REPORT_SIZE, 3);
    attest.resources = {"data"};
    attest.canonical_request = canonical_request(attest.resources).value();
    auto as_heartbeat = parse_heartbeat_request(serialize_attest_request(attest));
    REQUIRE_FALSE(as_heartbeat.ok());
    CHECK(std::string(as_heartbeat.error().message()).find("heartbeat.request") != std::string::npos);

    auto as_attest = parse_attest_request(serialize_heartbeat_request(sample()));
    REQUIRE_FALSE(as_attest.ok());
    CHECK(std::string(as_attest.error().message()).find("attest.request") != std::string::npos);
    // Nor both at once: each parser allows its own member only.
    std::string both =
        replaced(serialize_heartbeat_request(sample()), R"("request":{)", R"("request":{"resources":["data"],)");
    CHECK_FALSE(parse_heartbeat_request(both).ok());
    CHECK_FALSE(parse_attest_request(both).ok());
}

TEST_CASE("heartbeat: malformed requests name the member")
{
    std::string good = serialize_heartbeat_request(sample());
    struct Case {
        std::string body, member;
    };
    for (const Case& c : std::initializer_list<Case>{
             {replaced(good, "\"interval\":300", "\"interval\":9"), "interval"},
             {replaced(good, "\"interval\":300", "\"interval\":86401"), "interval"},
             {replaced(good, "\"interval\":300", "\"interval\":\"300\""), "interval"},
             {replaced(good, "\"interval\":300", "\"interval\":300,\"x\":1"), "heartbeat.request.heartbeat"},
             {replaced(good, "{\"interval\":300}", "{}"), "interval"},
             {replaced(good, "\"nonce\"", "\"nonces\""), "heartbeat"},
             {replaced(good, "\"report\":\"", "\"report\":\"AAAA"), "report"},
             {good.substr(0, good.size() - 1), "heartbeat"},
             {good + "x", "heartbeat"},
         }) {
        CAPTURE(c.body.substr(0, 80));
        auto parsed = parse_heartbeat_request(c.body);
        REQUIRE_FALSE(parsed.ok());
        CHECK(std::string(parsed.error().message()).find(c.member) != std::string::npos);
    }
    CHECK_FALSE(parse_heartbeat_request(std::string(MAX_MESSAGE_BYTES + 1, ' ')).ok());
}

TEST_CASE("heartbeat: an accepted verdict opens with the pinned key over the exact body sent")
{
    Ed25519KeyPair broker = Ed25519KeyPair::generate();
    std::string body = serialize_heartbeat_request(sample());
    std::string answer = serialize_heartbeat_answer(broker, bytes(body), accepted(), true).value();
    auto v = open_heartbeat_answer(broker.public_key(), bytes(body), answer);
    REQUIRE(v.ok());
    CHECK(v->accepted);
    CHECK(v->interval == 300);
    CHECK(v->measurement == std::string(96, 'a'));
    CHECK(v->report_id == std::string(64, 'c'));
    CHECK(v->time == 1'800'000'000);
    CHECK_FALSE(v->refusal);

    // Another key, another body (one byte of it), or an altered verdict: not the broker's.
    Ed25519KeyPair other = Ed25519KeyPair::generate();
    auto wrong_key = open_heartbeat_answer(other.public_key(), bytes(body), answer);
    REQUIRE_FALSE(wrong_key.ok());
    CHECK(wrong_key.error().code() == Errc::Crypto);
    std::string altered_body = body;
    altered_body[body.find("\"report\":\"") + 12] ^= 1;
    CHECK(open_heartbeat_answer(broker.public_key(), bytes(altered_body), answer).error().code() == Errc::Crypto);
    std::string altered = replaced(answer, "\"interval\":300", "\"interval\":301");
    CHECK(open_heartbeat_answer(broker.public_key(), bytes(body), altered).error().code() == Errc::Crypto);
    std::string refused_instead = replaced(answer, "\"accepted\":true", "\"accepted\":false");
    CHECK_FALSE(open_heartbeat_answer(broker.public_key(), bytes(body), refused_instead).ok());
    // The unsigned "simulated" may be dropped; the verdict stays the broker's.
    CHECK(open_heartbeat_answer(broker.public_key(), bytes(body), replaced(answer, ",\"simulated\":true", "")).ok());
    // Member order in the verdict does not matter: the signature covers its RFC 8785 form.
    std::string reordered = replaced(answer, "{\"accepted\":true,", "{");
    reordered = replaced(reordered, "\"time\":1800000000}", "\"time\":1800000000,\"accepted\":true}");
    CHECK(open_heartbeat_answer(broker.public_key(), bytes(body), reordered).ok());
}

TEST_CASE("heartbeat: a refused verdict carries the error object, signed")
{
    Ed25519KeyPair broker = Ed25519KeyPair::generate();
    std::string body = serialize_heartbeat_request(sample());
    HeartbeatVerdict v;
    v.refusal = error_body(ErrorCode::MeasurementMismatch, "MEASUREMENT is not in the policy");
    v.refusal->claim = "policy.measurement";
    v.refusal->got = std::string(96, 'b');
    v.refusal->expected = {std::string(96, 'a')};
    std::string answer = serialize_heartbeat_answer(broker, bytes(body), v, false).value();
    auto back = open_heartbeat_answer(broker.public_key(), bytes(body), answer);
    REQUIRE(back.ok());
    CHECK_FALSE(back->accepted);
    REQUIRE(back->refusal);
    CHECK(back->refusal->code == ErrorCode::MeasurementMismatch);
    CHECK(back->refusal->claim == "policy.measurement");
    CHECK(back->refusal->got == std::string(96, 'b'));
    CHECK(back->refusal->expected == std::vector<std::string>{std::string(96, 'a')});
    std::string other_code = replaced(answer, "MEASUREMENT_MISMATCH", "TCB_TOO_LOW");
    CHECK(open_heartbeat_answer(broker.public_key(), bytes(body), other_code).error().code() == Errc::Crypto);

    HeartbeatVerdict empty;  // refused without an error object: nothing to sign
    CHECK_FALSE(serialize_heartbeat_answer(broker, bytes(body), empty, false).ok());
}

TEST_CASE("heartbeat: an unsigned error object is not a verdict")
{
    Ed25519KeyPair broker = Ed25519KeyPair::generate();
    std::string body = serialize_heartbeat_request(sample());
    std::string unsigned_error = serialize_error(error_body(ErrorCode::MeasurementMismatch, "forged"));
    auto v = open_heartbeat_answer(broker.public_key(), bytes(body), unsigned_error);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().code() == Errc::Format);
}

TEST_CASE("heartbeat: a verdict signed by an independent implementation opens (Python cryptography, RFC 8785)")
{
    // tests/fuzz/corpus/heartbeat/accepted.json: Ed25519 seed 0x42 x 32 over the body {"fuzz":1},
    // signed by the pyca/cryptography Ed25519 implementation with the verdict canonicalized by
    // json.dumps(sort_keys=True, separators=(",", ":")).
    Secret<ED25519_SEED_SIZE> seed;
    for (uint8_t& b : seed.expose())
        b = 0x42;
    Ed25519KeyPair broker = Ed25519KeyPair::from_seed(seed);
    const std::string body = R"({"fuzz":1})";
    const std::string answer = R"({"verdict":{"accepted":true,"interval":300,"measurement":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","report_id":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","time":1800000000},"sig":"HUkKOlily1kaUMKjCIJ4zLZy7JQR9tw8QVGHAMIGX53A3zB3+exFAiKf4nDUNLNjwHqhzGv8D8gtOj2QOO5PCA==","simulated":true})";
    auto v = open_heartbeat_answer(broker.public_key(), bytes(body), answer);
    REQUIRE_MESSAGE(v.ok(), std::string(v.ok() ? "" : v.error().message()));
    CHECK(v->accepted);
    CHECK(v->report_id == std::string(64, 'c'));
    CHECK(v->time == 1'800'000'000);
    // Ed25519 is deterministic: the broker's own signature of the same verdict is the same text.
    CHECK(serialize_heartbeat_answer(broker, bytes(body), v.value(), true).value() == answer);
    CHECK_FALSE(open_heartbeat_answer(broker.public_key(), bytes(body + " "), answer).ok());
}
