#include <doctest.h>

#include <string>

#include "sim_chain.h"
#include "vectors.h"
#include "verify/amd_roots.h"
#include "verify/chain.h"

using namespace cvm;
using namespace cvm::verify;
using snp::Product;

namespace {

Certificate vector_cert(const std::string& path)
{
    auto c = Certificate::parse(test::read_vector("snp-reports/" + path));
    REQUIRE_MESSAGE(c.ok(), path, ": ", std::string(c.error().message()));
    return c.release_value();
}

bool mentions(const Claim& c, const std::string& what)
{
    return (c.found + " | " + c.expected + " | " + c.detail).find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("AMD's three chains pass every link rule")
{
    for (Product p : {Product::Milan, Product::Genoa, Product::Turin}) {
        CAPTURE(snp::product_name(p));
        auto roots = load_amd_roots(p).release_value();
        Claim ark = check_ark(roots.ark, Anchor::AmdPinned, p);
        CHECK_MESSAGE(ark.pass, ark.detail);
        CHECK(ark.name == "chain.ark");
        for (VekKind kind : {VekKind::Vcek, VekKind::Vlek}) {
            Claim ask = check_intermediate(roots.intermediate(kind), roots.ark, kind, Anchor::AmdPinned, p);
            CHECK_MESSAGE(ask.pass, ask.detail);
            CHECK(ask.name == "chain.ask");
        }
    }
}

TEST_CASE("a pinned ARK must be the one pinned for the product")
{
    auto genoa = load_amd_roots(Product::Genoa).release_value();
    Claim c = check_ark(genoa.ark, Anchor::AmdPinned, Product::Milan);
    CHECK_FALSE(c.pass);
    CHECK(mentions(c, "69d063b4"));  // the Milan pin is what was expected
    CHECK(mentions(c, "not AMD's pinned ARK for Milan"));
    CHECK_FALSE(check_ark(genoa.ark, Anchor::AmdPinned, std::nullopt).pass);
}

TEST_CASE("a self-made root passes the root rules only as a caller-supplied root")
{
    Certificate sim = test::testdata_cert("sim_ark.pem");
    Claim caller = check_ark(sim, Anchor::CallerSupplied, std::nullopt);
    CHECK_MESSAGE(caller.pass, caller.detail);
    CHECK(mentions(caller, "caller-supplied"));
    CHECK_FALSE(check_ark(sim, Anchor::AmdPinned, Product::Milan).pass);
    Claim small = check_ark(test::testdata_cert("sim_ark_rsa2048.pem"), Anchor::CallerSupplied, std::nullopt);
    CHECK_FALSE(small.pass);
    CHECK(mentions(small, "RSA-2048"));
}

TEST_CASE("a root must be self-issued, self-signed and a CA")
{
    auto milan = load_amd_roots(Product::Milan).release_value();
    Claim ask_as_root = check_ark(milan.ask, Anchor::CallerSupplied, std::nullopt);
    CHECK_FALSE(ask_as_root.pass);
    CHECK(mentions(ask_as_root, "self-issued"));
    Claim vcek_as_root = check_ark(vector_cert("virtee_milan_v2/vcek.der"), Anchor::CallerSupplied, std::nullopt);
    CHECK_FALSE(vcek_as_root.pass);
}

TEST_CASE("the intermediate: right role name, right issuer, right signature")
{
    auto milan = load_amd_roots(Product::Milan).release_value();
    auto genoa = load_amd_roots(Product::Genoa).release_value();
    // The ASVK where an ASK is expected (a VCEK chain): AMD names decide.
    Claim swapped = check_intermediate(milan.asvk, milan.ark, VekKind::Vcek, Anchor::AmdPinned, Product::Milan);
    CHECK_FALSE(swapped.pass);
    CHECK(mentions(swapped, "CN=SEV-Milan"));
    // Another product's ASK under the Milan ARK: name and issuer both wrong.
    Claim wrong_product = check_intermediate(genoa.ask, milan.ark, VekKind::Vcek, Anchor::AmdPinned, Product::Milan);
    CHECK_FALSE(wrong_product.pass);
    CHECK(mentions(wrong_product, "SEV-Genoa"));
    // Same, but as caller-supplied (names relaxed): the issuer Name still does not chain.
    Claim relaxed = check_intermediate(genoa.ask, milan.ark, VekKind::Vcek, Anchor::CallerSupplied, Product::Milan);
    CHECK_FALSE(relaxed.pass);
    CHECK(mentions(relaxed, "issuer CN=ARK-Genoa"));
}

TEST_CASE("the simulated ASK: names relaxed for a caller-supplied root, algorithms never")
{
    Certificate ark = test::testdata_cert("sim_ark.pem");
    Claim ok = check_intermediate(test::testdata_cert("sim_ask.pem"), ark, VekKind::Vcek, Anchor::CallerSupplied,
                                  Product::Milan);
    CHECK_MESSAGE(ok.pass, ok.detail);
    Claim named =
        check_intermediate(test::testdata_cert("sim_ask.pem"), ark, VekKind::Vcek, Anchor::AmdPinned, Product::Milan);
    CHECK_FALSE(named.pass);
    for (std::string bad : {"sim_ask_pkcs1.pem", "sim_ask_salt32.pem", "sim_ask_mgf256.pem"}) {
        CAPTURE(bad);
        Claim c =
            check_intermediate(test::testdata_cert(bad), ark, VekKind::Vcek, Anchor::CallerSupplied, Product::Milan);
        CHECK_FALSE(c.pass);
        CHECK(mentions(c, "RSASSA-PSS (SHA384, MGF1-SHA384, salt 48)"));
    }
}

TEST_CASE("the VEK: kind by CN, issuer, key, signature")
{
    auto milan = load_amd_roots(Product::Milan).release_value();
    Certificate vcek = vector_cert("virtee_milan_v2/vcek.der");
    CHECK(check_vek_certificate(vcek, milan.ask, VekKind::Vcek).pass);
    Claim as_vlek = check_vek_certificate(vcek, milan.ask, VekKind::Vlek);
    CHECK_FALSE(as_vlek.pass);
    CHECK(mentions(as_vlek, "CN=SEV-VLEK"));
    CHECK_FALSE(check_vek_certificate(vcek, milan.asvk, VekKind::Vcek).pass);
    Claim p256 = check_vek_certificate(test::testdata_cert("sim_vcek_p256.der"), test::testdata_cert("sim_ask.pem"),
                                       VekKind::Vcek);
    CHECK_FALSE(p256.pass);
    CHECK(mentions(p256, "secp256r1"));
    CHECK(check_vek_certificate(test::testdata_cert("sim_vcek.der"), test::testdata_cert("sim_ask.pem"), VekKind::Vcek)
              .pass);
}

TEST_CASE("the deliberately corrupted VCEKs fail under the Milan ASK")
{
    auto milan = load_amd_roots(Product::Milan).release_value();
    for (std::string name : {"trustee_test-vcek-invalid-legacy.der", "trustee_test-vcek-invalid-new.der"}) {
        CAPTURE(name);
        auto cert = Certificate::parse(test::read_vector("snp-reports/negative/" + name));
        if (!cert.ok())
            continue;  // refused by the parser: also a failure, as required
        Claim c = check_vek_certificate(cert.value(), milan.ask, VekKind::Vcek);
        CHECK_FALSE(c.pass);
        CHECK(mentions(c, "does not verify"));
    }
}

TEST_CASE("validity dates are checked only on request, against the time given")
{
    auto milan = load_amd_roots(Product::Milan).release_value();
    Certificate vlek = vector_cert("trustee_milan_vlek_v3/vlek.der");  // 2024-12-10 .. 2025-12-10
    Claim june_2025 = check_validity(milan.ark, milan.asvk, vlek, 1749000000);
    CHECK_MESSAGE(june_2025.pass, june_2025.detail);
    Claim jan_2026 = check_validity(milan.ark, milan.asvk, vlek, 1767225600);
    CHECK_FALSE(jan_2026.pass);
    CHECK(mentions(jan_2026, "2025-12-10T22:14:21Z"));
    CHECK(mentions(jan_2026, "2026-01-01T00:00:00Z"));
}
