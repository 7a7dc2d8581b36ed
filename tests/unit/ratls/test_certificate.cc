// KeyPair::issue and parse_certificate (docs/ratls.md "The certificate
// profile"): what the agent issues parses back, and what it must not issue or accept is refused.
#include <doctest.h>

#include "base/asn1.h"
#include "proto/pem.h"
#include "ratls_fixture.h"

using namespace cvm;
using namespace cvm::ratls;

namespace {

std::string pem_of(ByteView der, std::string_view label)
{
    SecretBytes text = proto::pem_encode(der, label);
    return std::string(text.expose().begin(), text.expose().end());
}

Bytes oid(std::initializer_list<uint32_t> arcs)
{
    return asn1::oid(arcs);
}

// A certificate assembled part by part, for the parser's adversarial cases. The signature is
// not checked by parse_certificate, so any DER ECDSA-Sig-Value-shaped bytes do.
struct Parts {
    Bytes version = asn1::explicit_tag(0, asn1::integer(2));
    Bytes serial = asn1::integer(0x1234);
    Bytes algorithm = asn1::sequence({oid({1, 2, 840, 10045, 4, 3, 2})});
    Bytes name = asn1::sequence({asn1::set_of_one(asn1::sequence({oid({2, 5, 4, 3}), asn1::utf8_string("x")}))});
    Bytes validity =
        asn1::sequence({asn1::x509_time(test::NOT_BEFORE).value(), asn1::x509_time(test::NOT_AFTER).value()});
    Bytes spki = test::p256_spki();
    std::vector<Bytes> extensions;
    bool with_extensions = true;
    Bytes outer_algorithm = asn1::sequence({oid({1, 2, 840, 10045, 4, 3, 2})});
    Bytes signature = asn1::bit_string(asn1::sequence({asn1::integer(1), asn1::integer(2)}));

    Parts()
    {
        EvidenceSet set{test::workload_evidence(test::launch(), spki, {}), test::launch().agent_evidence};
        extensions.push_back(cmw(encode_extension(set)));
    }
    static Bytes cmw(ByteView value) { return extension({1, 3, 6, 1, 5, 5, 7, 1, 35}, false, value); }
    static Bytes extension(std::initializer_list<uint32_t> id, bool critical, ByteView value)
    {
        if (critical)
            return asn1::sequence({oid(id), asn1::boolean(true), asn1::octet_string(value)});
        return asn1::sequence({oid(id), asn1::octet_string(value)});
    }
    Bytes der() const
    {
        Bytes ext;
        for (const Bytes& e : extensions)
            ext = asn1::concat({ext, e});
        Bytes tbs = asn1::concat({version, serial, algorithm, name, validity, name, spki});
        if (with_extensions)
            tbs = asn1::concat({tbs, asn1::explicit_tag(3, asn1::element(0x30, ext))});
        return asn1::sequence({asn1::element(0x30, tbs), outer_algorithm, signature});
    }
};

std::string refusal(ByteView der)
{
    auto r = parse_certificate(der);
    REQUIRE_FALSE(r.ok());
    return std::string(r.error().message());
}

}  // namespace

TEST_CASE("issue: a leaf for a P-256 key parses back with its names, dates and evidence")
{
    Bytes spki = test::p256_spki();
    Bytes nonce(32, 0x42);
    Bytes der = test::issue_leaf(test::launch(), spki, nonce, {"app.example", "api.app.example"});
    Certificate cert = test::parse(der);
    CHECK(cert.der == der);
    CHECK(cert.spki == spki);
    CHECK(cert.dns_names == std::vector<std::string>{"app.example", "api.app.example"});
    CHECK(cert.not_before == test::NOT_BEFORE);
    CHECK(cert.not_after == test::NOT_AFTER);
    CHECK_FALSE(cert.ca);
    REQUIRE(cert.evidence.issuer);
    CHECK(*cert.evidence.issuer == test::launch().agent_evidence);
    CHECK(cert.evidence.subject.nonce == nonce);
    CHECK(cert.evidence.subject.binding == proto::WORKLOAD_RATLS_TAG);
    // Two certificates for the same key differ in their random serials.
    CHECK(test::issue_leaf(test::launch(), spki, nonce) != test::issue_leaf(test::launch(), spki, nonce));
}

TEST_CASE("issue: an Ed25519 subject key, which mbedtls_x509write_crt cannot carry")
{
    Bytes spki = test::ed25519_spki();
    Certificate cert = test::parse(test::issue_leaf(test::launch(), spki, {}));
    CHECK(cert.spki == spki);
    CHECK(cert.spki.size() == 44);
}

TEST_CASE("issue: the agent's self-signed CA certificate")
{
    Certificate cert = test::parse(test::self_signed(test::launch()));
    CHECK(cert.ca);
    CHECK(cert.dns_names.empty());
    ByteView agent = test::launch().agent->spki_der();
    CHECK(cert.spki == Bytes(agent.begin(), agent.end()));
    CHECK_FALSE(cert.evidence.issuer);
    CHECK(cert.evidence.subject.binding == proto::AGENT_KEY_TAG);
}

TEST_CASE("issue: a self-signed certificate under another name is its own issuer")
{
    // As the agent's RA-TLS client certificate for the broker is: self-signed, not the issuer.
    const test::RatlsLaunch& l = test::launch();
    ratls::CertEvidence subject = l.agent_evidence;
    subject.spki.clear();
    auto der =
        l.agent->issue({}, "cvminit client", {}, EvidenceSet{subject, std::nullopt}, test::NOT_BEFORE, test::NOT_AFTER);
    REQUIRE_MESSAGE(der.ok(), der.error().message());
    Certificate cert = test::parse(der.value());
    CHECK(cert.ca);
    RatlsVerification v = test::check(cert, Expectation{std::string(proto::AGENT_KEY_TAG), std::nullopt});
    CHECK_MESSAGE(v.pass(), test::dump(v));
    // Its issuer Name is its subject Name (the DER of "CN=cvminit client" twice in the TBS).
    std::string tbs(cert.tbs.begin(), cert.tbs.end());
    size_t first = tbs.find("cvminit client");
    REQUIRE(first != std::string::npos);
    CHECK(tbs.find("cvminit client", first + 1) != std::string::npos);
    CHECK(tbs.find("cvminit agent") == std::string::npos);
}

TEST_CASE("issue: refuses what the profile does not allow")
{
    const test::RatlsLaunch& l = test::launch();
    Bytes spki = test::p256_spki();
    EvidenceSet set{test::workload_evidence(l, spki, {}), l.agent_evidence};
    auto issue = [&](ByteView key, std::string_view cn, const std::vector<std::string>& dns, const EvidenceSet& s,
                     std::time_t nb = test::NOT_BEFORE, std::time_t na = test::NOT_AFTER) {
        auto r = l.agent->issue(key, cn, dns, s, nb, na);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Config);
        return std::string(r.error().message());
    };
    for (const char* bad :
         {"", "-a.example", "a-.example", "a..example", "a.example.", "*.example", "a_b.example", "a b", "é.example"}) {
        CAPTURE(std::string(bad));
        CHECK(issue(spki, "w", {bad}, set).find("DNS name") != std::string::npos);
    }
    CHECK(issue(spki, "w", {std::string(64, 'a') + ".example"}, set).find("DNS name") != std::string::npos);
    CHECK(issue(spki, "w", std::vector<std::string>(17, "a.example"), set).find("17 DNS names") != std::string::npos);
    CHECK(issue(spki, "", {}, set).find("subject CN") != std::string::npos);
    CHECK(issue(spki, std::string(65, 'c'), {}, set).find("subject CN") != std::string::npos);
    CHECK(issue(spki, "a\nb", {}, set).find("control") != std::string::npos);
    CHECK(issue(spki, "w", {}, set, test::NOT_AFTER, test::NOT_BEFORE).find("validity") != std::string::npos);
    CHECK(issue(Bytes{0x30, 0x00}, "w", {}, set).find("subject public key") != std::string::npos);

    EvidenceSet no_issuer{set.subject, std::nullopt};
    CHECK(issue(spki, "w", {}, no_issuer).find("no issuer evidence") != std::string::npos);
    EvidenceSet other_issuer{set.subject, test::other_launch().agent_evidence};
    CHECK(issue(spki, "w", {}, other_issuer).find("another key") != std::string::npos);
    EvidenceSet subject_spki = set;
    subject_spki.subject.spki = spki;
    CHECK(issue(spki, "w", {}, subject_spki).find("subject evidence carries an SPKI") != std::string::npos);
    CHECK(issue({}, "", {}, set).find("issuer evidence in a self-signed") != std::string::npos);
}

TEST_CASE("issue: the private key leaves only as PEM in wiping storage, and matches the SPKI")
{
    auto key = KeyPair::generate();
    REQUIRE(key.ok());
    auto pem = key.value()->private_key_pem();
    REQUIRE(pem.ok());
    std::string text(pem->expose().begin(), pem->expose().end());
    CHECK(text.rfind("-----BEGIN EC PRIVATE KEY-----\n", 0) == 0);
    CHECK(text.find('\0') == std::string::npos);
    auto again = KeyPair::generate();
    REQUIRE(again.ok());
    CHECK(Bytes(key.value()->spki_der().begin(), key.value()->spki_der().end()) !=
          Bytes(again.value()->spki_der().begin(), again.value()->spki_der().end()));
}

TEST_CASE("parse_certificate: PEM and DER, and the framing around them")
{
    Bytes der = test::issue_leaf(test::launch(), test::p256_spki(), {});
    std::string pem = pem_of(der, "CERTIFICATE");
    CHECK(test::parse(as_bytes(pem)).der == der);
    CHECK(test::parse(as_bytes("\n" + pem)).der == der);
    CHECK(refusal(as_bytes(pem + pem)).find("CERTIFICATE") != std::string::npos);
    CHECK(refusal(as_bytes(pem_of(der, "PUBLIC KEY"))).find("CERTIFICATE") != std::string::npos);
    Bytes trailing = der;
    trailing.push_back(0);
    CHECK(refusal(trailing).find("trailing") != std::string::npos);
    for (size_t n = 0; n < der.size(); n += (n < 300 || der.size() - n < 300) ? 1 : 101)
        CHECK_FALSE(parse_certificate(ByteView(der).first(n)).ok());
    CHECK(refusal(Bytes(200 * 1024, 0x30)).find("at most") != std::string::npos);
}

TEST_CASE("parse_certificate: the parts assembled by hand parse as the profile says")
{
    Parts good;
    auto parsed = parse_certificate(good.der());
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().message());
    CHECK(parsed->spki == good.spki);
    CHECK(parsed->signature == asn1::sequence({asn1::integer(1), asn1::integer(2)}));

    SUBCASE("X.509 v1 and v2")
    {
        Parts p;
        p.version = asn1::explicit_tag(0, asn1::integer(0));
        CHECK(refusal(p.der()).find("version is 1, expected 2 (v3)") != std::string::npos);
        p.version.clear();
        CHECK(refusal(p.der()).find("version") != std::string::npos);
    }
    SUBCASE("serial numbers")
    {
        Parts p;
        p.serial = asn1::element(0x02, Bytes{0x80});
        CHECK(refusal(p.der()).find("serialNumber") != std::string::npos);
        p.serial = asn1::element(0x02, Bytes(22, 1));
        CHECK(refusal(p.der()).find("serialNumber") != std::string::npos);
    }
    SUBCASE("signature algorithms")
    {
        Parts p;
        p.algorithm = p.outer_algorithm = asn1::sequence({oid({1, 2, 840, 10045, 4, 3, 3})});  // ecdsa-with-SHA384
        CHECK(refusal(p.der()).find("expected ecdsa-with-SHA256") != std::string::npos);
        Parts q;
        q.algorithm = asn1::sequence({oid({1, 2, 840, 10045, 4, 3, 3})});
        CHECK(refusal(q.der()).find("differs") != std::string::npos);
        Parts n;
        n.algorithm = n.outer_algorithm = asn1::sequence({oid({1, 2, 840, 10045, 4, 3, 2}), asn1::null()});
        CHECK(refusal(n.der()).find("without parameters") != std::string::npos);
    }
    SUBCASE("signature values")
    {
        Parts p;
        p.signature = asn1::bit_string(Bytes(80, 1));
        CHECK(refusal(p.der()).find("signatureValue") != std::string::npos);
        p.signature = asn1::bit_string(Bytes{0x30, 0x00}, 1);
        CHECK(refusal(p.der()).find("signatureValue") != std::string::npos);
    }
    SUBCASE("dates")
    {
        Parts p;
        p.validity = asn1::sequence({asn1::element(0x17, as_bytes("2601010000Z")), asn1::x509_time(0).value()});
        CHECK(refusal(p.der()).find("notBefore") != std::string::npos);
        p.validity = asn1::sequence({asn1::element(0x17, as_bytes("261301000000Z")), asn1::x509_time(0).value()});
        CHECK(refusal(p.der()).find("not a valid time") != std::string::npos);
        p.validity = asn1::sequence({asn1::element(0x17, as_bytes("2601010000a0Z")), asn1::x509_time(0).value()});
        CHECK(refusal(p.der()).find("expected a digit") != std::string::npos);
        p.validity = asn1::sequence({asn1::x509_time(2524608000).value(), asn1::x509_time(2524608001).value()});
        auto r = parse_certificate(p.der());  // 2050: GeneralizedTime
        REQUIRE_MESSAGE(r.ok(), r.error().message());
        CHECK(r->not_before == 2524608000);
    }
    SUBCASE("keys")
    {
        Parts p;
        p.spki = asn1::sequence(
            {asn1::sequence({oid({1, 2, 840, 113549, 1, 1, 1}), asn1::null()}), asn1::bit_string(Bytes{0x30, 0x00})});
        CHECK(refusal(p.der()).find("an RSA key") != std::string::npos);
    }
    SUBCASE("no extensions, no id-pe-cmw, two of them")
    {
        Parts p;
        p.with_extensions = false;
        CHECK(refusal(p.der()).find("no extensions") != std::string::npos);
        Parts q;
        q.extensions = {
            Parts::extension({2, 5, 29, 17}, false, asn1::sequence({asn1::element(0x82, as_bytes("a.b"))}))};
        CHECK(refusal(q.der()).find("no id-pe-cmw extension") != std::string::npos);
        Parts two;
        two.extensions.push_back(two.extensions[0]);
        CHECK(refusal(two.der()).find("two id-pe-cmw extensions") != std::string::npos);
    }
    SUBCASE("other extensions")
    {
        Parts p;
        p.extensions.push_back(Parts::extension({1, 2, 3, 4}, true, Bytes{0x05, 0x00}));
        CHECK(refusal(p.der()).find("unknown critical extension") != std::string::npos);
        Parts ok;
        ok.extensions.push_back(Parts::extension({1, 2, 3, 4}, false, Bytes{0x05, 0x00}));
        CHECK(parse_certificate(ok.der()).ok());
        Parts twice;
        Bytes bc = Parts::extension({2, 5, 29, 19}, true, asn1::sequence({}));
        twice.extensions.push_back(bc);
        twice.extensions.push_back(bc);
        CHECK(refusal(twice.der()).find("repeats an extension") != std::string::npos);
        Parts false_critical;
        false_critical.extensions.push_back(
            asn1::sequence({oid({2, 5, 29, 19}), asn1::boolean(false), asn1::octet_string(asn1::sequence({}))}));
        CHECK(refusal(false_critical.der()).find("DEFAULT") != std::string::npos);
        Parts ip;
        ip.extensions.push_back(
            Parts::extension({2, 5, 29, 17}, false, asn1::sequence({asn1::element(0x87, Bytes{127, 0, 0, 1})})));
        CHECK(refusal(ip.der()).find("dNSName (0x82) only") != std::string::npos);
        Parts empty_san;
        empty_san.extensions.push_back(Parts::extension({2, 5, 29, 17}, false, asn1::sequence({})));
        CHECK(refusal(empty_san.der()).find("empty") != std::string::npos);
        Parts bad_dns;
        bad_dns.extensions.push_back(
            Parts::extension({2, 5, 29, 17}, false, asn1::sequence({asn1::element(0x82, as_bytes("a b"))})));
        CHECK(refusal(bad_dns.der()).find("subjectAltName: dNSName: \"a b\" holds byte 0x20") != std::string::npos);
    }
    SUBCASE("the evidence's certificates must form a chain")
    {
        Parts p;
        EvidenceSet set{test::workload_evidence(test::launch(), p.spki, {}), test::launch().agent_evidence};
        set.subject.certs = {set.subject.certs[0], set.subject.certs[0]};  // two VCEKs
        p.extensions = {Parts::cmw(encode_extension(set))};
        CHECK(refusal(p.der()).find("id-pe-cmw subject.certs") != std::string::npos);
        set.subject.certs = {Bytes{0x30, 0x00}};
        p.extensions = {Parts::cmw(encode_extension(set))};
        CHECK(refusal(p.der()).find("id-pe-cmw subject.certs") != std::string::npos);
    }
    SUBCASE("a malformed extension is refused with the codec's reason")
    {
        Parts p;
        p.extensions = {Parts::cmw(asn1::octet_string(Bytes{0xA0}))};
        CHECK(refusal(p.der()).find("cbor") != std::string::npos);
    }
}
