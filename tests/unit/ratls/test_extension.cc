// The id-pe-cmw codec (lib/ratls/extension.cc, docs/ratls.md "The extension"): round trips of
// real simulated evidence, and every way an untrusted extension can be malformed.
#include <doctest.h>

#include "base/asn1.h"
#include "base/base64.h"
#include "base/der.h"
#include "ratls_fixture.h"
#include "snp/report.h"

using namespace cvm;
using namespace cvm::ratls;

namespace {

constexpr const char* TYPE = "urn:cvminit:ratls:sev-snp-evidence-1";
constexpr const char* MEDIA = "application/vnd.cvminit.sev-snp-evidence+json";

// The evidence JSON member by member, as text, so a test can break any one of them.
struct EvidenceText {
    std::string binding, nonce, provider, report, certs, spki, extra;

    static EvidenceText of(const CertEvidence& e)
    {
        EvidenceText t;
        t.binding = "\"" + e.binding + "\"";
        t.nonce = "\"" + base64_encode(e.nonce) + "\"";
        t.provider = "\"" + e.provider + "\"";
        t.report = "\"" + base64_encode(e.report) + "\"";
        t.certs = "[";
        for (const Bytes& c : e.certs)
            t.certs += std::string(t.certs.size() > 1 ? "," : "") + "\"" + base64_encode(c) + "\"";
        t.certs += "]";
        if (!e.spki.empty())
            t.spki = "\"" + base64_encode(e.spki) + "\"";
        return t;
    }
    std::string json() const
    {
        std::string out = "{\"binding\":" + binding + ",\"nonce\":" + nonce + ",\"provider\":" + provider +
                          ",\"report\":" + report + ",\"certs\":" + certs;
        if (!spki.empty())
            out += ",\"spki\":" + spki;
        return out + extra + "}";
    }
};

std::string record(const std::string& evidence_json, const char* media = MEDIA, const char* ind = "4")
{
    return std::string("[\"") + media + "\",\"" + base64url_encode(as_bytes(evidence_json)) + "\"," + ind + "]";
}

Bytes utf8(const std::string& json)
{
    return asn1::element(0x0C, as_bytes(json));
}

std::string collection(const std::string& subject, const std::string& issuer = "", const char* type = TYPE)
{
    std::string out = std::string("{\"__cmwc_t\":\"") + type + "\",\"subject\":" + subject;
    if (!issuer.empty())
        out += ",\"issuer\":" + issuer;
    return out + "}";
}

const CertEvidence& subject_evidence()
{
    static const CertEvidence e = test::workload_evidence(test::launch(), test::p256_spki(), Bytes(16, 0xAB));
    return e;
}

std::string refusal(ByteView extension)
{
    auto parsed = parse_extension(extension);
    REQUIRE_FALSE(parsed.ok());
    return std::string(parsed.error().message());
}

// A valid collection with the subject's evidence text changed by `change`.
std::string subject_refusal(void (*change)(EvidenceText&))
{
    EvidenceText t = EvidenceText::of(subject_evidence());
    change(t);
    return refusal(utf8(collection(record(t.json()), record(EvidenceText::of(test::launch().agent_evidence).json()))));
}

std::string issuer_refusal(void (*change)(EvidenceText&))
{
    EvidenceText t = EvidenceText::of(test::launch().agent_evidence);
    change(t);
    return refusal(utf8(collection(record(EvidenceText::of(subject_evidence()).json()), record(t.json()))));
}

}  // namespace

TEST_CASE("id-pe-cmw: evidence round-trips, with and without issuer evidence")
{
    EvidenceSet with{subject_evidence(), test::launch().agent_evidence};
    Bytes ext = encode_extension(with);
    CHECK(ext[0] == 0x0C);  // CMW json choice: UTF8String
    auto back = parse_extension(ext);
    REQUIRE_MESSAGE(back.ok(), back.error().message());
    CHECK(back.value() == with);

    EvidenceSet alone{test::launch().agent_evidence, std::nullopt};
    alone.subject.spki.clear();
    auto back_alone = parse_extension(encode_extension(alone));
    REQUIRE_MESSAGE(back_alone.ok(), back_alone.error().message());
    CHECK(back_alone.value() == alone);
    CHECK_FALSE(back_alone->issuer);
}

TEST_CASE("id-pe-cmw: the encoding is the documented CMW collection")
{
    EvidenceSet set{subject_evidence(), test::launch().agent_evidence};
    Bytes ext = encode_extension(set);
    Reader r(ext, "test");
    auto content = der::read(r, 0x0C, "CMW");
    REQUIRE(content.ok());
    std::string text(content.value().begin(), content.value().end());
    CHECK(text ==
          collection(record(EvidenceText::of(set.subject).json()), record(EvidenceText::of(*set.issuer).json())));
    // The text is also what a CMW-aware parser expects of a JSON collection: it starts with '{'
    // (draft-ietf-rats-msg-wrap, "Decapsulation Algorithm": 0x7b is a JSON collection).
    CHECK(text[0] == '{');
}

TEST_CASE("id-pe-cmw: DER framing")
{
    Bytes good = encode_extension(EvidenceSet{subject_evidence(), test::launch().agent_evidence});
    SUBCASE("every truncation is refused")
    {
        for (size_t n = 0; n < good.size(); n += (n < 64 || good.size() - n < 64) ? 1 : 97)
            CHECK_FALSE(parse_extension(ByteView(good).first(n)).ok());
    }
    SUBCASE("a trailing byte")
    {
        Bytes longer = good;
        longer.push_back(0);
        CHECK(refusal(longer).find("trailing") != std::string::npos);
    }
    SUBCASE("the cbor choice is named")
    {
        Bytes cbor = asn1::octet_string(Bytes{0xA1, 0x01, 0x02});
        auto parsed = parse_extension(cbor);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().code() == Errc::Unsupported);
        CHECK(std::string(parsed.error().message()).find("cbor") != std::string::npos);
    }
    SUBCASE("another tag")
    {
        CHECK(refusal(asn1::ia5_string("{}")).find("tag 0x16") != std::string::npos);
    }
    SUBCASE("oversized, refused before parsing")
    {
        Bytes huge(MAX_EXTENSION_SIZE + 1, ' ');
        CHECK(refusal(huge).find("at most 65536") != std::string::npos);
    }
    SUBCASE("not JSON, or not an object")
    {
        CHECK(refusal(utf8("{\"__cmwc_t\":")).find("not valid JSON") != std::string::npos);
        CHECK(refusal(utf8("[1,2,3]")).find("collection") != std::string::npos);
        CHECK(refusal(utf8("{\"a\":1}")).find("unknown member") != std::string::npos);
    }
}

TEST_CASE("id-pe-cmw: the collection's members")
{
    std::string s = record(EvidenceText::of(subject_evidence()).json());
    std::string i = record(EvidenceText::of(test::launch().agent_evidence).json());
    CHECK(refusal(utf8(collection(s, i, "urn:example:other"))).find("__cmwc_t is \"urn:example:other\"") !=
          std::string::npos);
    CHECK(refusal(utf8("{\"subject\":" + s + "}")).find("__cmwc_t") != std::string::npos);
    CHECK(refusal(utf8(std::string("{\"__cmwc_t\":\"") + TYPE + "\"}")).find("subject") != std::string::npos);
    CHECK(refusal(utf8(std::string("{\"__cmwc_t\":\"") + TYPE + "\",\"subject\":" + s + ",\"subject\":" + s + "}"))
              .find("duplicate") != std::string::npos);
    CHECK(refusal(utf8(std::string("{\"__cmwc_t\":\"") + TYPE + "\",\"subject\":" + s + ",\"extra\":" + s + "}"))
              .find("unknown member") != std::string::npos);
    CHECK(refusal(utf8(std::string("{\"__cmwc_t\":7,\"subject\":") + s + "}")).find("string") != std::string::npos);
}

TEST_CASE("id-pe-cmw: the records")
{
    std::string e = EvidenceText::of(subject_evidence()).json();
    std::string i = record(EvidenceText::of(test::launch().agent_evidence).json());
    auto with_subject = [&](const std::string& subject) { return refusal(utf8(collection(subject, i))); };
    CHECK(with_subject(record(e, "application/json")).find("type is \"application/json\"") != std::string::npos);
    CHECK(with_subject(record(e, MEDIA, "2")).find("ind") != std::string::npos);
    CHECK(with_subject(record(e, MEDIA, "\"4\"")).find("ind") != std::string::npos);
    CHECK(with_subject(std::string("[\"") + MEDIA + "\",\"" + base64url_encode(as_bytes(e)) + "\"]").find("3 items") !=
          std::string::npos);
    CHECK(with_subject("{}").find("record") != std::string::npos);
    // base64url: padded, standard alphabet, whitespace.
    std::string padded = base64_encode(as_bytes(e));
    CHECK(with_subject(std::string("[\"") + MEDIA + "\",\"" + padded + "\",4]").find("base64url") != std::string::npos);
    std::string spaced = base64url_encode(as_bytes(e));
    spaced.insert(8, " ");
    CHECK(with_subject(std::string("[\"") + MEDIA + "\",\"" + spaced + "\",4]").find("base64url") != std::string::npos);
    CHECK(with_subject(record("not json")).find("not valid JSON") != std::string::npos);
    CHECK(with_subject(record("[]")).find("object") != std::string::npos);
}

TEST_CASE("id-pe-cmw: the evidence's members")
{
    CHECK(subject_refusal([](EvidenceText& t) {
              t.binding = "\"cvmkb/1 report-data\"";
          }).find("binding is \"cvmkb/1 report-data\"") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) {
              t.binding = "\"cvminit workload/1 user-data\"";
          }).find("expected one of") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) { t.binding = "7"; }).find("string") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) { t.nonce = "\"" + base64_encode(Bytes(65, 1)) + "\""; }).find("nonce") !=
          std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) { t.nonce = "\"AAE\""; }).find("base64") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) { t.provider = "\"tpm\""; }).find("provider is \"tpm\"") !=
          std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) {
              t.report = "\"" + base64_encode(Bytes(snp::REPORT_SIZE - 1, 0)) + "\"";
          }).find("1183 bytes, expected 1184") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) {
              t.report = "\"" + base64_encode(Bytes(snp::REPORT_SIZE + 1, 0)) + "\"";
          }).find("report") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) { t.certs = "\"x\""; }).find("certs") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) { t.certs = "[\"\"]"; }).find("certs[0] is empty") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) {
              t.certs = "[\"AA==\",\"AA==\",\"AA==\",\"AA==\",\"AA==\"]";
          }).find("5 certificates, expected at most 4") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) { t.certs = "[\"AA==\",1]"; }).find("certs[1]") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) { t.spki = "\"AA==\""; }).find("unknown member") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) { t.extra = ",\"note\":1"; }).find("unknown member") !=
          std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) { t.extra = ",\"nonce\":\"\""; }).find("duplicate") != std::string::npos);
}

TEST_CASE("id-pe-cmw: nonce sizes follow the binding")
{
    // RATLS_BROKER_TAG carries the 64-byte cvmkb/1 report_data; AGENT_KEY_TAG none.
    CHECK(subject_refusal([](EvidenceText& t) {
              t.binding = "\"cvmkb/1 ra-tls\"";
              t.nonce = "\"" + base64_encode(Bytes(63, 1)) + "\"";
          }).find("63 bytes, expected 64") != std::string::npos);
    CHECK(subject_refusal([](EvidenceText& t) {
              t.binding = "\"cvminit agent-key/1\"";
              t.nonce = "\"" + base64_encode(Bytes(1, 1)) + "\"";
          }).find("expected none") != std::string::npos);
    EvidenceSet broker{subject_evidence(), test::launch().agent_evidence};
    broker.subject.binding = std::string(proto::RATLS_BROKER_TAG);
    broker.subject.nonce = Bytes(64, 7);
    auto parsed = parse_extension(encode_extension(broker));
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().message());
    CHECK(parsed.value() == broker);
}

TEST_CASE("id-pe-cmw: the issuer evidence names the agent's P-256 key")
{
    CHECK(issuer_refusal([](EvidenceText& t) { t.spki.clear(); }).find("spki") != std::string::npos);
    CHECK(issuer_refusal([](EvidenceText& t) {
              t.binding = "\"cvminit workload/1 ra-tls\"";
          }).find("expected \"cvminit agent-key/1\"") != std::string::npos);
    CHECK(issuer_refusal([](EvidenceText& t) {
              t.spki = "\"" + base64_encode(test::ed25519_spki()) + "\"";
          }).find("Ed25519 key, expected P-256") != std::string::npos);
    CHECK(issuer_refusal([](EvidenceText& t) {
              t.spki = "\"" + base64_encode(Bytes{0x30, 0x00}) + "\"";
          }).find("spki") != std::string::npos);
}
