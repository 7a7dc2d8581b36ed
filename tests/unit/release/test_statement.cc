// The statement's JSON: canonical (RFC 8785), round-tripping, and parsed strictly.
#include <doctest.h>

#include "proto/jcs.h"
#include "release_fixture.h"

using namespace cvm;
using namespace cvm::release;
using test::replace_once;

namespace {

std::string sample_json()
{
    return to_json(test::sample_statement());
}

// parse_statement's error for `json`, which must be refused with `code`.
std::string refusal(const std::string& json, Errc code = Errc::Format)
{
    auto parsed = parse_statement(json);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code() == code);
    return std::string(parsed.error().message());
}

bool contains(const std::string& text, std::string_view part)
{
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a statement is canonical JSON that reads back as itself")
{
    std::string json = sample_json();
    CAPTURE(json);
    CHECK(proto::jcs_canonicalize(json, MAX_BUNDLE_SIZE).value() == json);
    CHECK(json.starts_with("{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicate\":{\"cmdline\":"));
    CHECK(contains(json, "\"policy\":\"0x30000\""));
    CHECK(contains(json, "\"guest_features\":\"0x1\""));
    CHECK(contains(json, "\"source_date_epoch\":1700000000"));
    CHECK(contains(json, "\"not_after\":1700001000"));
    CHECK(contains(json, "{\"digest\":{\"sha256\":\"1010101010101010101010101010101010101010101010101010101010101010\"}"
                         ",\"name\":\"firmware\"}"));
    CHECK(contains(json, "\"predicateType\":\"https://cvminit.dev/release/v1\""));
    Statement back = parse_statement(json).value();
    CHECK(back == test::sample_statement());
    CHECK(to_json(back) == json);

    Statement bare = test::sample_statement();
    bare.predicate.not_after.reset();
    bare.predicate.host_data.reset();
    bare.subjects.resize(1);
    std::string bare_json = to_json(bare);
    CHECK_FALSE(contains(bare_json, "not_after"));
    CHECK_FALSE(contains(bare_json, "host_data"));
    CHECK(parse_statement(bare_json).value() == bare);
}

TEST_CASE("find names the shape of a MEASUREMENT, and nothing for another")
{
    Statement s = test::sample_statement();
    Measurement m{};
    m.fill(0x02);
    REQUIRE(s.find(m) != nullptr);
    CHECK(s.find(m)->shape == Shape{8, "EPYC-Genoa", "ec2"});
    m[47] = 0x03;
    CHECK(s.find(m) == nullptr);
}

TEST_CASE("PAE is DSSE's pre-authentication encoding")
{
    // secure-systems-lab/dsse protocol.md, "Test vectors".
    Bytes got = pae("http://example.com/HelloWorld", as_bytes("hello world"));
    CHECK(std::string(got.begin(), got.end()) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
    Bytes empty = pae("", {});
    CHECK(std::string(empty.begin(), empty.end()) == "DSSEv1 0  0 ");
}

TEST_CASE("a statement with a member missing, unknown or repeated is refused by name")
{
    std::string json = sample_json();
    CHECK(contains(refusal(replace_once(json, "\"predicateType\"", "\"predicateTyp\"")),
                   "statement.predicateTyp: unknown member"));
    CHECK(contains(refusal(replace_once(json, "{\"_type\"", "{\"extra\":1,\"_type\"")),
                   "statement.extra: unknown member"));
    CHECK(contains(refusal(replace_once(json, "\"cmdline\"", "\"cmdline\":\"\",\"cmdline\"")), "duplicate member"));
    CHECK(contains(refusal(replace_once(json, "\"mode\":\"snp\",", "")), "statement.predicate.mode: missing"));
    CHECK(contains(refusal(replace_once(json, "\"measurement\"", "\"extra\":0,\"measurement\"")),
                   "statement.predicate.shapes[0].extra: unknown member"));
    CHECK(contains(refusal(replace_once(json, "{\"sha256\"", "{\"sha512\":\"00\",\"sha256\"")),
                   "statement.subject[0].digest.sha512: unknown member"));
    CHECK(contains(refusal(json + " x"), "not valid JSON"));
    CHECK(contains(refusal("[]"), "expected a JSON object"));
}

TEST_CASE("a statement of another type or predicate type is refused")
{
    std::string json = sample_json();
    CHECK(
        contains(refusal(replace_once(json, "Statement/v1", "Statement/v0.1")),
                 "statement._type is \"https://in-toto.io/Statement/v0.1\", expected https://in-toto.io/Statement/v1"));
    CHECK(contains(refusal(replace_once(json, "release/v1", "release/v2")), "statement.predicateType is"));
}

TEST_CASE("digests and measurements must be lower-case hex of their exact length")
{
    std::string json = sample_json();
    std::string m1(96, '0');
    for (size_t i = 1; i < 96; i += 2)
        m1[i] = '1';
    CHECK(contains(refusal(replace_once(json, m1, "A" + m1.substr(1))),
                   "statement.predicate.shapes[0].measurement is not lower-case hex"));
    CHECK(contains(refusal(replace_once(json, m1, m1.substr(2))),
                   "statement.predicate.shapes[0].measurement is 94 hex digits, expected 96 hex digits"));
    std::string s1 = "1010101010101010101010101010101010101010101010101010101010101010";
    CHECK(contains(refusal(replace_once(json, "\"sha256\":\"" + s1, "\"sha256\":\"" + s1 + "10")),
                   "statement.subject[0].digest.sha256 is 66 hex digits"));
    std::string h = std::string(64, 'a');
    for (size_t i = 1; i < 64; i += 2)
        h[i] = 'b';
    CHECK(contains(refusal(replace_once(json, "\"host_data\":\"" + h, "\"host_data\":\"" + h.substr(0, 63) + "g")),
                   "statement.predicate.host_data is not lower-case hex"));
}

TEST_CASE("integers and enumerations out of their range are refused")
{
    std::string json = sample_json();
    CHECK(contains(refusal(replace_once(json, "\"vcpus\":4", "\"vcpus\":0")), "shapes[0].vcpus: integer out of range"));
    CHECK(contains(refusal(replace_once(json, "\"vcpus\":4", "\"vcpus\":4097")), "integer out of range"));
    CHECK(contains(refusal(replace_once(json, "\"vcpus\":4", "\"vcpus\":4.0")), "expected an integer"));
    CHECK(contains(refusal(replace_once(json, "\"vcpus\":4", "\"vcpus\":\"4\"")), "expected an integer"));
    CHECK(contains(refusal(replace_once(json, "\"source_date_epoch\":1700000000", "\"source_date_epoch\":-1")),
                   "source_date_epoch: integer out of range"));
    CHECK(contains(
        refusal(replace_once(json, "\"source_date_epoch\":1700000000", "\"source_date_epoch\":9007199254740992")),
        "integer out of range"));
    CHECK(contains(refusal(replace_once(json, "\"not_after\":1700001000", "\"not_after\":1700000000")),
                   "statement.predicate.not_after is 1700000000, expected after source_date_epoch 1700000000"));
    CHECK(contains(refusal(replace_once(json, "\"vmm_type\":\"QEMU\"", "\"vmm_type\":\"qemu\"")),
                   "statement.predicate.shapes[0].vmm_type is \"qemu\""));
    CHECK(contains(refusal(replace_once(json, "\"vcpu_type\":\"EPYC-Milan\"", "\"vcpu_type\":\"\"")),
                   "statement.predicate.shapes[0].vcpu_type is 0 bytes"));
    CHECK(contains(refusal(replace_once(json, "\"mode\":\"snp\"", "\"mode\":\"sev\"")),
                   "statement.predicate.mode is \"sev\", expected \"snp\" or \"snp:svsm\""));
    CHECK(contains(refusal(replace_once(json, "\"tool\":\"cvm 0.1.0\"", "\"tool\":\"\"")),
                   "statement.predicate.tool is 0 bytes"));
}

TEST_CASE("policy and guest_features have one spelling: 0x and lower-case hex without leading zeros")
{
    std::string json = sample_json();
    for (const char* bad : {"0x030000", "0X30000", "30000", "0x", "0x3000G", "0x30000 ", "0x10000000000000000"}) {
        CAPTURE(bad);
        CHECK(contains(refusal(replace_once(json, "\"policy\":\"0x30000\"", std::string("\"policy\":\"") + bad + "\"")),
                       "statement.predicate.policy is"));
    }
    CHECK(contains(refusal(replace_once(json, "\"guest_features\":\"0x1\"", "\"guest_features\":1")),
                   "statement.predicate.guest_features: expected a string"));
    Statement zero =
        parse_statement(replace_once(json, "\"guest_features\":\"0x1\"", "\"guest_features\":\"0x0\"")).value();
    CHECK(zero.predicate.guest_features == 0);
    Statement max =
        parse_statement(replace_once(json, "\"policy\":\"0x30000\"", "\"policy\":\"0xffffffffffffffff\"")).value();
    CHECK(max.predicate.policy == UINT64_MAX);
    CHECK(parse_statement(to_json(max)).value() == max);
}

TEST_CASE("shapes and subjects: at least one, each once")
{
    Statement s = test::sample_statement();
    s.predicate.shapes[1].shape = s.predicate.shapes[0].shape;
    CHECK(contains(refusal(to_json(s)),
                   "statement.predicate.shapes[1] is the shape of shapes[0] again, expected each (vcpus, vcpu_type, "
                   "vmm_type) once"));
    // The same MEASUREMENT for two shapes is not a contradiction (two names for one launch).
    s = test::sample_statement();
    s.predicate.shapes[1].measurement = s.predicate.shapes[0].measurement;
    CHECK(parse_statement(to_json(s)).ok());

    s = test::sample_statement();
    s.predicate.shapes.clear();
    CHECK(contains(refusal(to_json(s)), "statement.predicate.shapes is empty, expected at least one shape"));
    s = test::sample_statement();
    s.subjects.clear();
    CHECK(contains(refusal(to_json(s)), "statement.subject is empty"));
    s = test::sample_statement();
    s.subjects[1].name = "firmware";
    CHECK(contains(refusal(to_json(s)), "statement.subject[1].name is \"firmware\" again"));
    s = test::sample_statement();
    s.subjects[3].name = "rootfs";
    CHECK(contains(refusal(to_json(s)), "statement.subject[3].name is \"rootfs\""));
    s = test::sample_statement();
    s.subjects.push_back(s.subjects[0]);
    CHECK(contains(refusal(to_json(s)), "statement.subject: too many items"));
}

TEST_CASE("a statement that cannot be JSON gives no text, and an oversized one is refused unread")
{
    Statement s = test::sample_statement();
    s.predicate.cmdline = "bad \xff utf-8";
    CHECK(to_json(s).empty());
    std::string huge(MAX_BUNDLE_SIZE + 1, ' ');
    CHECK(contains(refusal(huge), "statement is 1048577 bytes, expected at most 1048576"));
}
