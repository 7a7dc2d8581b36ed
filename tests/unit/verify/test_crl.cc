// Crl and check_revocation (verify/crl.h): real AMD CRLs from tests/vectors, and CRLs made with
// lib/sim's builders to be every shape a hostile or stale CRL can take.
#include <doctest.h>

#include <chrono>

#include "sim/crl.h"
#include "sim/mbedtls_util.h"
#include "sim/x509_builder.h"
#include "vectors.h"
#include "verify/amd_roots.h"
#include "verify/crl.h"
#include "verify/verifier.h"
#include "verify_vectors.h"

using namespace cvm;
using namespace cvm::verify;

namespace {

constexpr std::time_t DAY = 24 * 60 * 60;
constexpr std::time_t T0 = 1796000000;  // 2026-11-30, a fixed "now" for the made CRLs

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

std::string error_of(const Result<Crl>& r)
{
    REQUIRE_FALSE(r.ok());
    return std::string(r.error().message());
}

// Two simulated platforms: P's chain is checked; Q's ARK key is "another RSA-4096 key".
struct Keys {
    sim::Platform p, q;
    std::unique_ptr<sim::Drbg> drbg;
    std::unique_ptr<sim::PkKey> p_ark, q_ark;
    Certificate ark, ask, vek;
    Certificate ask_signing_with_q;  // an ASK certificate for Q's ARK key, issued by P's ARK

    static const Keys& get()
    {
        static const Keys k = make();
        return k;
    }

private:
    static Keys make()
    {
        auto p = sim::create_platform({});
        auto q = sim::create_platform({});
        REQUIRE(p.ok());
        REQUIRE(q.ok());
        auto drbg = sim::Drbg::create("test_crl").release_value();
        auto p_ark = sim::parse_rsa4096_private_key(p->ark_key_der.expose(), *drbg, "P ARK").release_value();
        auto q_ark = sim::parse_rsa4096_private_key(q->ark_key_der.expose(), *drbg, "Q ARK").release_value();
        Certificate ark = Certificate::parse_der(p->ark_der).release_value();
        Certificate ask = Certificate::parse_der(p->ask_der).release_value();
        Certificate vek = Certificate::parse_der(p->vcek_der).release_value();
        sim::CertificateSpec spec{.serial = sim::SIM_ASK_SERIAL,
                                  .issuer = Bytes(ark.subject_raw().begin(), ark.subject_raw().end()),
                                  .subject = Bytes(ask.subject_raw().begin(), ask.subject_raw().end()),
                                  .not_before = T0 - 365 * DAY,
                                  .not_after = T0 + 365 * DAY,
                                  .subject_public_key_info = sim::public_key_info(*q_ark).release_value(),
                                  .extensions = {}};
        Bytes ask_q = sim::sign_certificate(spec, *p_ark, *drbg).release_value();
        Certificate ask_signing_with_q = Certificate::parse_der(ask_q).release_value();
        return Keys{p.release_value(), q.release_value(), std::move(drbg),
                    std::move(p_ark),  std::move(q_ark),  std::move(ark),
                    std::move(ask),    std::move(vek),    std::move(ask_signing_with_q)};
    }
};

// A CRL as AMD shapes it (sim::make_crl's fields), issued by P's ARK, valid T0-1d .. T0+30d.
sim::CrlSpec good_spec()
{
    const Keys& k = Keys::get();
    sim::CrlSpec s;
    s.issuer = Bytes(k.ark.subject_raw().begin(), k.ark.subject_raw().end());
    s.this_update = T0 - DAY;
    s.next_update = T0 + 30 * DAY;
    return s;
}

Bytes sign(const sim::CrlSpec& spec, sim::PkKey* key = nullptr)
{
    const Keys& k = Keys::get();
    auto crl = sim::sign_crl(spec, key ? *key : *k.p_ark, *k.drbg);
    REQUIRE_MESSAGE(crl.ok(), crl.error().message());
    return crl.release_value();
}

Claim check(ByteView crl, std::time_t now = T0, CrlSignatureCache* cache = nullptr)
{
    const Keys& k = Keys::get();
    return check_revocation(crl, k.ark, k.ask, k.vek, now, Anchor::CallerSupplied, VekKind::Vcek, cache);
}

std::string pem(ByteView der)
{
    return sim::pem_encode("X509 CRL", der).release_value();
}

}  // namespace

TEST_CASE("a current CRL by the ARK listing neither serial passes, saying what it checked")
{
    Bytes der = sign(good_spec());
    Claim c = check(der);
    CHECK_MESSAGE(c.pass, c.found << " / " << c.detail);
    CHECK(c.name == "chain.revocation");
    CHECK(contains(c.found, "not revoked"));
    CHECK(contains(c.detail, "ASK serial 0x10001 and VCEK serial 0x0 not listed"));
    CHECK(contains(c.detail, "nextUpdate 2026-12-30T"));
    // PEM of the same bytes, with whitespace around, is the same CRL.
    CHECK(check(as_bytes("\n" + pem(der) + "\n")).pass);
}

TEST_CASE("the parser takes exactly one bounded v2 CRL with a nextUpdate")
{
    Bytes der = sign(good_spec());
    REQUIRE(Crl::parse(der).ok());
    for (size_t n : {size_t{0}, size_t{1}, size_t{4}, der.size() / 2, der.size() - 1})
        CHECK_FALSE(Crl::parse(ByteView(der).first(n)).ok());
    Bytes trailing = der;
    trailing.push_back(0);
    CHECK(contains(error_of(Crl::parse(trailing)), "cannot parse"));
    std::string two = pem(der) + pem(der);
    CHECK(contains(error_of(Crl::parse(as_bytes(two))), "a second PEM block follows"));
    CHECK(contains(error_of(Crl::parse(as_bytes(pem(der) + "junk\n"))), "text outside the block"));
    CHECK_FALSE(Crl::parse(as_bytes("junk\n" + pem(der))).ok());  // not PEM, so DER, and not that
    std::string cert_label = pem(der);
    cert_label.replace(cert_label.find("X509 CRL"), 8, "CERTIFICATE");
    CHECK_FALSE(Crl::parse(as_bytes(cert_label)).ok());

    sim::CrlSpec v1 = good_spec();
    v1.version.reset();
    CHECK(contains(error_of(Crl::parse(sign(v1))), "version is v1, expected v2"));
    sim::CrlSpec no_next = good_spec();
    no_next.next_update.reset();
    CHECK(contains(error_of(Crl::parse(sign(no_next))), "no nextUpdate"));
    Bytes huge(CRL_MAX_DER_SIZE + 1, 0x30);
    CHECK(contains(error_of(Crl::parse(huge)), "expected 1 to 65536"));
}

TEST_CASE("a CRL from another issuer or signed by another key fails before any date or serial")
{
    Keys& k = const_cast<Keys&>(Keys::get());
    sim::CrlSpec wrong_issuer = good_spec();
    wrong_issuer.issuer = Bytes(k.ask.subject_raw().begin(), k.ask.subject_raw().end());
    Claim c = check(sign(wrong_issuer));
    CHECK_FALSE(c.pass);
    CHECK(contains(c.found, "issued by another Name"));
    CHECK(contains(c.expected, "SIMULATED-ARK-Genoa"));

    // Signed by the key an ASK of this ARK certifies: the issuer is right, the signer is not.
    Claim by_ask = check_revocation(sign(good_spec(), k.q_ark.get()), k.ark, k.ask_signing_with_q, k.vek, T0,
                                    Anchor::CallerSupplied, VekKind::Vcek, nullptr);
    CHECK_FALSE(by_ask.pass);
    CHECK(contains(by_ask.found, "not signed by the ARK"));
    CHECK(contains(by_ask.detail, "does not verify under the ARK's key"));
    CHECK_FALSE(check(sign(good_spec(), k.q_ark.get())).pass);  // another platform's ARK key

    sim::CrlSpec pkcs1 = good_spec();
    pkcs1.padding = sim::RsaPadding::Pkcs1v15;
    Claim p = check(sign(pkcs1));
    CHECK_FALSE(p.pass);
    CHECK(contains(p.detail, "signature algorithm is RSA PKCS#1 v1.5 with SHA384, expected RSASSA-PSS"));

    // A hostile CRL is refused after at most one RSA verification, and never cached.
    CrlSignatureCache cache;
    Bytes forged = sign(good_spec(), k.q_ark.get());
    CHECK_FALSE(check(forged, T0, &cache).pass);
    CHECK_FALSE(cache.contains(Crl::parse(forged).value().fingerprint(), k.ark.fingerprint()));
}

TEST_CASE("dates: thisUpdate <= now <= nextUpdate, on every call even with a cached signature")
{
    Bytes der = sign(good_spec());
    CrlSignatureCache cache;
    CHECK(check(der, T0, &cache).pass);
    CHECK(cache.contains(Crl::parse(der).value().fingerprint(), Keys::get().ark.fingerprint()));
    Claim expired = check(der, T0 + 31 * DAY, &cache);
    CHECK_FALSE(expired.pass);
    CHECK(contains(expired.found, "nextUpdate 2026-12-30T"));
    CHECK(contains(expired.detail, "expired"));
    Claim early = check(der, T0 - 2 * DAY, &cache);
    CHECK_FALSE(early.pass);
    CHECK(contains(early.found, "thisUpdate 2026-11-"));
    CHECK(contains(early.detail, "not yet valid"));
    CHECK(check(der, T0 + 30 * DAY, &cache).pass);  // nextUpdate itself is still current
}

TEST_CASE("a listed ASK or VEK serial fails, naming the serial, the role and the date")
{
    const Keys& k = Keys::get();
    sim::CrlSpec spec = good_spec();
    spec.revoked = {{0x4242, T0 - 3 * DAY}};
    CHECK(check(sign(spec)).pass);  // someone else's serial
    spec.revoked.push_back({sim::SIM_ASK_SERIAL, T0 - 2 * DAY});
    Claim ask = check(sign(spec));
    CHECK_FALSE(ask.pass);
    CHECK(ask.found == "serial 0x10001 (ASK) revoked 2026-11-28T00:53:20Z");
    CHECK(contains(ask.detail, "SIMULATED-ASK-Genoa"));
    spec.revoked = {{sim::SIM_VCEK_SERIAL, T0 - DAY}};
    Claim vek = check(sign(spec));
    CHECK_FALSE(vek.pass);
    CHECK(vek.found == "serial 0x0 (VCEK) revoked 2026-11-29T00:53:20Z");
    // The same serials as a VLEK's chain would name them.
    Claim vlek = check_revocation(sign(spec), k.ark, k.ask, k.vek, T0, Anchor::CallerSupplied, VekKind::Vlek, nullptr);
    CHECK(vlek.found == "serial 0x0 (VLEK) revoked 2026-11-29T00:53:20Z");
}

TEST_CASE("a long revoked list is bounded by size, and a long list under it still finds the ASK")
{
    sim::CrlSpec spec = good_spec();
    for (uint64_t i = 0; i < 2000; ++i)
        spec.revoked.push_back({0x100000 + i, T0 - DAY});
    spec.revoked.push_back({sim::SIM_ASK_SERIAL, T0 - DAY});
    Bytes big = sign(spec);
    REQUIRE(big.size() < CRL_MAX_DER_SIZE);
    CHECK(Crl::parse(big).value().entries() == 2001);
    auto start = std::chrono::steady_clock::now();
    Claim c = check(big);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    CHECK(c.found == "serial 0x10001 (ASK) revoked 2026-11-29T00:53:20Z");
    MESSAGE("2001-entry CRL checked in " << ms << " ms");
    for (uint64_t i = 2001; i < 3500; ++i)
        spec.revoked.push_back({0x100000 + i, T0 - DAY});
    Claim over = check(sign(spec));
    CHECK_FALSE(over.pass);
    CHECK(contains(over.detail, "expected 1 to 65536"));
}

TEST_CASE("the real AMD CRLs verify under the real ARKs and leave the real vectors' chains unrevoked")
{
    struct Case {
        const char* crl;
        snp::Product product;
        const char* vector;
        std::time_t inside;  // between thisUpdate and nextUpdate
    };
    for (const Case& c :
         {Case{"milan_vcek_atakit-n9.crl", snp::Product::Milan, "virtee_milan_v2", 1782800000},
          Case{"milan_vcek_reprobuild-n12.crl", snp::Product::Milan, "gosevguest_milan_v2", 1791000000},
          Case{"genoa_vcek_reprobuild-n11.crl", snp::Product::Genoa, "trustee_azure_genoa_v3", 1791000000},
          Case{"turin_vcek_reprobuild-n8.crl", snp::Product::Turin, "oak_turin_v5", 1791000000}}) {
        CAPTURE(std::string(c.crl));
        Bytes bytes = test::read_vector(std::string("snp-reports/amd_crls/") + c.crl);
        Crl crl = Crl::parse(bytes).release_value();
        AmdRoots roots = load_amd_roots(c.product).release_value();
        CHECK(check_crl_signature(crl, roots.ark).ok());
        CHECK(to_hex(crl.issuer_raw()) == to_hex(roots.ark.subject_raw()));
        // Under another product's ARK it is neither issued nor signed by it.
        AmdRoots other = load_amd_roots(c.product == snp::Product::Milan ? snp::Product::Genoa : snp::Product::Milan)
                             .release_value();
        CHECK_FALSE(check_crl_signature(crl, other.ark).ok());

        Evidence ev = test::vector_evidence(c.vector, false);
        ev.crl = bytes;
        VerifyOptions at;
        at.crl_now = c.inside;
        auto verifier = test::make_verifier();
        Verification v = verifier->verify(ev, at);
        CHECK_MESSAGE(v.pass(), test::dump(v));
        at.crl_now = crl.next_update_time().value() + 1;
        Verification stale = verifier->verify(ev, at);
        CHECK(test::failing(stale) == test::Names{"chain.revocation"});
        CHECK(contains(test::claim(stale, "chain.revocation").detail, "expired"));
    }
    // Genoa's lists its first ASK, serial 0x020001, revoked 2022-10-31; today's ASK is 0x020002.
    Crl genoa = Crl::parse(test::read_vector("snp-reports/amd_crls/genoa_vcek_eidola-n9.crl")).release_value();
    const uint8_t first_ask[] = {0x02, 0x00, 0x01}, current_ask[] = {0x02, 0x00, 0x02};
    CHECK(genoa.revoked(first_ask) == std::optional<std::string>("2022-10-31T12:00:00Z"));
    CHECK_FALSE(genoa.revoked(current_ask).has_value());
    CHECK(genoa.entries() == 1);
}

TEST_CASE("the Verifier: chain.revocation is always there, off only when someone is named")
{
    auto verifier = test::make_verifier();
    Evidence ev = test::vector_evidence("virtee_milan_v2", false);
    Claim none = test::claim(verifier->verify(ev), "chain.revocation");
    CHECK_FALSE(none.pass);
    CHECK(none.found == "no CRL");
    CHECK(contains(none.detail, "KDS /vcek/v1/{product}/crl"));
    CHECK(contains(none.detail, "--no-revocation"));

    VerifyOptions off;
    off.revocation_off_by = "--no-revocation";
    Verification v = verifier->verify(ev, off);
    CHECK(v.pass());
    CHECK(test::claim(v, "chain.revocation").found == "disabled by --no-revocation");

    Evidence vlek = test::vector_evidence("trustee_milan_vlek_v3", false);
    CHECK(contains(test::claim(verifier->verify(vlek), "chain.revocation").detail, "KDS /vlek/v1/{product}/crl"));

    // A Genoa CRL for Milan evidence: issued by another ARK.
    ev.crl = test::read_vector("snp-reports/amd_crls/genoa_vcek_eidola-n9.crl");
    CHECK(contains(test::claim(verifier->verify(ev), "chain.revocation").found, "issued by another Name"));

    Evidence incomplete;  // no VEK certificate
    incomplete.report = ev.report;
    incomplete.crl = ev.crl;
    CHECK(test::claim(verifier->verify(incomplete, test::NO_REVOCATION), "chain.revocation").pass);
    Claim nc = test::claim(verifier->verify(incomplete), "chain.revocation");
    CHECK(nc.found == "not checked");
}
