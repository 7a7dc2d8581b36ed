#include <doctest.h>

#include <string>
#include <thread>

#include "snp/report.h"
#include "vectors.h"
#include "verify/verifier.h"
#include "verify_vectors.h"

using namespace cvm;
using namespace cvm::verify;
using snp::Product;
using test::failing;
using test::make_verifier;
using test::Names;
using test::names;

namespace {

VerifyOptions for_product(Product product)
{
    VerifyOptions o = test::NO_REVOCATION;
    o.product = product;
    return o;
}

VerifyOptions at_time(std::time_t now)
{
    VerifyOptions o = test::NO_REVOCATION;
    o.now = now;
    return o;
}

const Names FULL_CLAIMS = {"report.format",    "report.signing_key", "chain.ark",          "chain.ask",   "chain.vek",
                           "chain.revocation", "vek.extensions",     "vek.struct_version", "vek.product", "vek.kind",
                           "vek.tcb",          "vek.hwid",           "report.signature"};

}  // namespace

TEST_CASE("every AMD-signed vector verifies, with its own chain and with the built-in roots")
{
    auto verifier = make_verifier();
    for (const auto& dir : test::SIGNED_REPORT_VECTORS) {
        for (bool with_chain : {true, false}) {
            CAPTURE(dir);
            CAPTURE(with_chain);
            Verification v = verifier->verify(test::vector_evidence(dir, with_chain), test::NO_REVOCATION);
            CHECK_MESSAGE(v.pass(), test::dump(v));
            CHECK(names(v) == FULL_CLAIMS);
            CHECK(v.status().ok());
            CHECK(v.verified_report().ok());
            CHECK(v.anchor == Anchor::AmdPinned);
            CHECK(v.vek_tcb.has_value());
        }
    }
}

TEST_CASE("products and signers are recognised, v2 reports through the VEK")
{
    auto verifier = make_verifier();
    struct Case {
        const char* dir;
        Product product;
        VekKind kind;
    };
    for (const Case& c : {Case{"virtee_milan_v2", Product::Milan, VekKind::Vcek},
                          Case{"gosevguest_milan_v2", Product::Milan, VekKind::Vcek},
                          Case{"trustee_azure_genoa_v3", Product::Genoa, VekKind::Vcek},
                          Case{"oak_turin_v5", Product::Turin, VekKind::Vcek},
                          Case{"trustee_milan_vlek_v3", Product::Milan, VekKind::Vlek}}) {
        CAPTURE(std::string(c.dir));
        Verification v = verifier->verify(test::vector_evidence(c.dir, false), test::NO_REVOCATION);
        CHECK(v.product == c.product);
        CHECK(v.vek_kind == c.kind);
    }
}

TEST_CASE("gosevguest_milan_v2 is authentic: its DEBUG policy is for the policy layer")
{
    Verification v = make_verifier()->verify(test::vector_evidence("gosevguest_milan_v2"), test::NO_REVOCATION);
    CHECK(v.pass());
    CHECK(v.report->policy.debug());
}

TEST_CASE("constellation_vlek_v2_SIGFAIL: the chain verifies, the report signature does not")
{
    Verification v =
        make_verifier()->verify(test::vector_evidence("constellation_vlek_v2_SIGFAIL"), test::NO_REVOCATION);
    CHECK(failing(v) == Names{"report.signature"});
    CHECK(v.vek_kind == VekKind::Vlek);
    auto status = v.status();
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().code() == Errc::Crypto);
    CHECK(std::string(status.error().message()).find("report.signature") == 0);
    CHECK_FALSE(v.verified_report().ok());
    CHECK(v.report.has_value());  // parsed, but not verified
}

TEST_CASE("virtee_turin_chain_only: a chain without a report")
{
    auto verifier = make_verifier();
    for (bool with_chain : {true, false}) {
        Verification v =
            verifier->verify(test::vector_evidence("virtee_turin_chain_only", with_chain), test::NO_REVOCATION);
        CHECK_MESSAGE(v.pass(), test::dump(v));
        CHECK(names(v) == Names{"chain.ark", "chain.ask", "chain.vek", "chain.revocation", "vek.extensions",
                                "vek.struct_version", "vek.product", "vek.kind"});
        CHECK(v.product == Product::Turin);
        CHECK_FALSE(v.verified_report().ok());  // there is no report to hand out
    }
}

TEST_CASE("the corrupted VCEKs in negative/ fail under the Milan ASK")
{
    auto verifier = make_verifier();
    for (std::string name : {"trustee_test-vcek-invalid-legacy.der", "trustee_test-vcek-invalid-new.der"}) {
        CAPTURE(name);
        Evidence ev;
        ev.vek = test::read_vector("snp-reports/negative/" + name);
        Verification by_option = verifier->verify(ev, for_product(Product::Milan));
        CHECK_FALSE(by_option.pass());
        CHECK_FALSE(test::claim(by_option, "chain.vek").pass);
        Bytes ask_pem = test::read_vector("snp-reports/amd_roots/ask_milan.pem");
        ev.ask = ask_pem;
        Verification by_ask = verifier->verify(ev, test::NO_REVOCATION);
        CHECK_FALSE(test::claim(by_ask, "chain.vek").pass);
        CHECK(test::claim(by_ask, "chain.ask").pass);
    }
    CHECK(verifier->cache_stats().vek_entries == 0);  // failures are not remembered
}

TEST_CASE("dates: not checked by default, checked against the caller's time on request")
{
    auto verifier = make_verifier();
    Evidence ev = test::vector_evidence("trustee_milan_vlek_v3");  // VLEK expired 2025-12-10
    CHECK(verifier->verify(ev, test::NO_REVOCATION).pass());
    CHECK(verifier->verify(ev, test::NO_REVOCATION).find("chain.validity") == nullptr);
    Verification june_2025 = verifier->verify(ev, at_time(1749000000));
    CHECK(june_2025.pass());
    Verification jan_2026 = verifier->verify(ev, at_time(1767225600));
    CHECK(failing(jan_2026) == Names{"chain.validity"});
}

TEST_CASE("the caller's product must be the evidence's")
{
    auto verifier = make_verifier();
    Evidence milan = test::vector_evidence("virtee_milan_v2", false);
    CHECK(verifier->verify(milan, for_product(Product::Milan)).pass());
    Verification as_genoa = verifier->verify(milan, for_product(Product::Genoa));
    CHECK_FALSE(as_genoa.pass());
    CHECK_FALSE(test::claim(as_genoa, "chain.vek").pass);  // the Genoa ASK did not sign it
    CHECK_FALSE(test::claim(as_genoa, "vek.product").pass);
    Verification genoa_v3 =
        verifier->verify(test::vector_evidence("trustee_azure_genoa_v3"), for_product(Product::Turin));
    CHECK_FALSE(test::claim(genoa_v3, "chain.ark").pass);  // the ARK in the evidence is Genoa's
    CHECK_FALSE(test::claim(genoa_v3, "vek.product").pass);
}

TEST_CASE("another product's ASK or ARK in the evidence fails")
{
    auto verifier = make_verifier();
    Evidence ev = test::vector_evidence("virtee_milan_v2", false);
    ev.ask = test::read_vector("snp-reports/amd_roots/ask_genoa.pem");
    Verification wrong_ask = verifier->verify(ev, test::NO_REVOCATION);
    CHECK_FALSE(test::claim(wrong_ask, "chain.ask").pass);
    CHECK_FALSE(test::claim(wrong_ask, "chain.vek").pass);
    CHECK(test::claim(wrong_ask, "report.signature").pass);  // the report itself is fine

    ev = test::vector_evidence("virtee_milan_v2", false);
    ev.ark = test::read_vector("snp-reports/amd_roots/ark_genoa.pem");
    Verification wrong_ark = verifier->verify(ev, test::NO_REVOCATION);
    const Claim& ark = test::claim(wrong_ark, "chain.ark");
    CHECK_FALSE(ark.pass);
    CHECK(ark.detail == "the ARK in the evidence is not a trusted root");

    ev = test::vector_evidence("oak_turin_v5", false);  // a VCEK chain handed an ASVK
    ev.ask = test::read_vector("snp-reports/amd_roots/asvk_turin.pem");
    CHECK_FALSE(test::claim(verifier->verify(ev, test::NO_REVOCATION), "chain.ask").pass);
}

TEST_CASE("the VEK must be the kind SIGNING_KEY names")
{
    auto verifier = make_verifier();
    Evidence ev = test::vector_evidence("virtee_milan_v2", false);  // SIGNING_KEY VCEK
    ev.vek = test::read_vector("snp-reports/trustee_milan_vlek_v3/vlek.der");
    Verification v = verifier->verify(ev, test::NO_REVOCATION);
    CHECK(v.vek_kind == VekKind::Vcek);
    CHECK_FALSE(test::claim(v, "chain.vek").pass);
    CHECK_FALSE(test::claim(v, "vek.kind").pass);
    CHECK_FALSE(test::claim(v, "report.signature").pass);

    ev = test::vector_evidence("trustee_milan_vlek_v3", false);  // SIGNING_KEY VLEK
    ev.vek = test::read_vector("snp-reports/virtee_milan_v2/vcek.der");
    Verification w = verifier->verify(ev, test::NO_REVOCATION);
    CHECK(w.vek_kind == VekKind::Vlek);
    CHECK_FALSE(test::claim(w, "chain.vek").pass);
    CHECK_FALSE(test::claim(w, "vek.kind").pass);
}

TEST_CASE("an unsigned report is rejected")
{
    Evidence ev = test::vector_evidence("virtee_milan_v2", false);
    ev.report[0x48] |= 7 << 2;  // SIGNING_KEY = NONE
    Verification v = make_verifier()->verify(ev, test::NO_REVOCATION);
    CHECK_FALSE(test::claim(v, "report.signing_key").pass);
    CHECK_FALSE(test::claim(v, "report.signature").pass);
    CHECK(v.status().error().code() == Errc::Crypto);
    ev = test::vector_evidence("virtee_milan_v2", false);
    ev.report[0x48] |= 1 << 1;  // MASK_CHIP_KEY
    CHECK_FALSE(test::claim(make_verifier()->verify(ev, test::NO_REVOCATION), "report.signing_key").pass);
}

TEST_CASE("broken inputs give failing claims, never a crash or a pass")
{
    auto verifier = make_verifier();
    Evidence no_vek = test::vector_evidence("virtee_milan_v2", false);
    no_vek.vek.clear();
    Verification a = verifier->verify(no_vek, test::NO_REVOCATION);
    CHECK_FALSE(a.pass());
    CHECK(test::claim(a, "chain.vek").detail == "the evidence has no VCEK/VLEK certificate");
    CHECK(test::claim(a, "vek.tcb").found == "not checked");
    CHECK_FALSE(test::claim(a, "report.signature").pass);

    Evidence garbage = test::vector_evidence("virtee_milan_v2", false);
    garbage.vek = Bytes(100, 0x30);
    garbage.ask = Bytes{1, 2, 3};
    Verification b = verifier->verify(garbage, test::NO_REVOCATION);
    CHECK_FALSE(b.pass());
    CHECK_FALSE(test::claim(b, "chain.ask").pass);

    Evidence short_report = test::vector_evidence("virtee_milan_v2", false);
    short_report.report.resize(1000);
    Verification c = verifier->verify(short_report, test::NO_REVOCATION);
    CHECK_FALSE(test::claim(c, "report.format").pass);
    CHECK(c.status().error().code() == Errc::Format);
    CHECK(test::claim(c, "chain.vek").pass);  // the chain is still checked and shown
    CHECK(test::claim(c, "report.signature").found == "not checked");

    Verification nothing = verifier->verify(Evidence{}, test::NO_REVOCATION);
    CHECK_FALSE(nothing.pass());
    CHECK_FALSE(nothing.claims.empty());
}

TEST_CASE("the verified ARK -> ASK pair and each VEK are cached; cached claims equal fresh ones")
{
    VerifierOptions small_cache;
    small_cache.vek_cache_capacity = 2;
    auto verifier = make_verifier(std::move(small_cache));
    Evidence milan = test::vector_evidence("virtee_milan_v2", false);
    Verification cold = verifier->verify(milan, test::NO_REVOCATION);
    CacheStats s = verifier->cache_stats();
    CHECK(s.chain_misses == 1);
    CHECK(s.vek_misses == 1);
    Verification warm = verifier->verify(milan, test::NO_REVOCATION);
    s = verifier->cache_stats();
    CHECK(s.chain_hits == 1);
    CHECK(s.vek_hits == 1);
    REQUIRE(cold.claims.size() == warm.claims.size());
    for (size_t i = 0; i < cold.claims.size(); ++i) {
        CHECK(cold.claims[i].name == warm.claims[i].name);
        CHECK(cold.claims[i].pass == warm.claims[i].pass);
        CHECK(cold.claims[i].detail == warm.claims[i].detail);
    }
    // Another VCEK under the same ASK: the chain part is a hit, the VEK a miss.
    verifier->verify(test::vector_evidence("gosevguest_milan_v2", false), test::NO_REVOCATION);
    s = verifier->cache_stats();
    CHECK(s.chain_hits == 2);
    CHECK(s.vek_misses == 2);
    // Capacity 2: a third VEK evicts the oldest.
    verifier->verify(test::vector_evidence("oak_turin_v5", false), test::NO_REVOCATION);
    CHECK(verifier->cache_stats().vek_entries == 2);
    verifier->clear_cache();
    CHECK(verifier->cache_stats().vek_entries == 0);
    verifier->verify(milan, test::NO_REVOCATION);
    CHECK(verifier->cache_stats().vek_misses == 4);
}

TEST_CASE("a cached chain does not make a tampered report pass")
{
    auto verifier = make_verifier();
    Evidence ev = test::vector_evidence("oak_turin_v5", false);
    REQUIRE(verifier->verify(ev, test::NO_REVOCATION).pass());
    ev.report[0x90] ^= 1;  // MEASUREMENT
    Verification v = verifier->verify(ev, test::NO_REVOCATION);
    CHECK(failing(v) == Names{"report.signature"});
}

TEST_CASE("verify() may be called from several threads")
{
    auto verifier = make_verifier();
    std::atomic<int> passes{0};
    std::vector<std::thread> threads;
    for (const auto& dir : test::SIGNED_REPORT_VECTORS) {
        Evidence ev = test::vector_evidence(dir, false);
        threads.emplace_back([&verifier, &passes, ev] {
            for (int i = 0; i < 3; ++i)
                passes += verifier->verify(ev, test::NO_REVOCATION).pass() ? 1 : 0;
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(passes == 3 * static_cast<int>(test::SIGNED_REPORT_VECTORS.size()));
}

TEST_CASE("one cached VEK key serves threads verifying good and tampered reports at once")
{
    auto verifier = make_verifier();
    Evidence good = test::vector_evidence("virtee_milan_v2", false);
    REQUIRE(verifier->verify(good, test::NO_REVOCATION).pass());  // the VEK and its parsed key are now cached
    Evidence bad = good;
    bad.report[0x90] ^= 1;  // MEASUREMENT: the signature no longer matches
    std::atomic<int> good_passes{0}, bad_passes{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) {
                if (t % 2 == 0)
                    good_passes += verifier->verify(good, test::NO_REVOCATION).pass() ? 1 : 0;
                else
                    bad_passes += verifier->verify(bad, test::NO_REVOCATION).pass() ? 1 : 0;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(good_passes == 40);
    CHECK(bad_passes == 0);
    CHECK(verifier->cache_stats().vek_misses == 1);
    CHECK(failing(verifier->verify(bad, test::NO_REVOCATION)) == Names{"report.signature"});
}
