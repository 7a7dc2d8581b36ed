// Product lines the verify layer recognises (selection.cc, snp/tcb.h): Genoa's Zen 4c parts
// verify as Genoa, and Venice (Zen 6) is refused by name rather than parsed with another
// product's TCB layout, whatever the certificate or --product say.
#include <doctest.h>

#include <string>

#include "snp/report.h"
#include "vectors.h"
#include "verify/verifier.h"
#include "verify_vectors.h"

using namespace cvm;
using namespace cvm::verify;
using snp::Product;

namespace {

// The real Turin vector with its CPUID model changed (the signature no longer verifies, which
// is beside the point: the product decision comes first).
Evidence with_cpuid(uint8_t family, uint8_t model, bool with_chain)
{
    Evidence e = test::vector_evidence("oak_turin_v5", with_chain);
    auto r = snp::parse_report(e.report).value();
    r.cpuid_fam_id = family;
    r.cpuid_mod_id = model;
    auto bytes = snp::serialize_report(r);
    e.report.assign(bytes.begin(), bytes.end());
    return e;
}

const Claim* find(const Verification& v, const char* name)
{
    const Claim* c = v.find(name);
    REQUIRE(c);
    return c;
}

}  // namespace

TEST_CASE("Venice is refused by CPUID with a clear message, with or without --product")
{
    auto verifier = test::make_verifier();
    for (int model : {0x50, 0x5F, 0x80, 0xAF, 0xC0, 0xCF}) {
        for (bool with_chain : {true, false}) {
            for (std::optional<Product> forced : {std::optional<Product>(), std::optional(Product::Turin)}) {
                CAPTURE(int(model));
                CAPTURE(with_chain);
                VerifyOptions o = test::NO_REVOCATION;
                o.product = forced;
                Verification v = verifier->verify(with_cpuid(0x1A, uint8_t(model), with_chain), o);
                CHECK_FALSE(v.pass());
                CHECK_FALSE(v.product.has_value());
                const Claim* ark = find(v, "chain.ark");
                CHECK_FALSE(ark->pass);
                CHECK(ark->detail.find("Venice (CPUID family 1Ah model") != std::string::npos);
                CHECK(ark->detail.find("not supported until AMD publishes its KDS format") != std::string::npos);
                CHECK(find(v, "vek.product")->detail.find("Venice") != std::string::npos);
            }
        }
    }
}

TEST_CASE("Zen 5 and Zen 4c models around Venice's are not refused")
{
    for (uint8_t model : {uint8_t(0x02), uint8_t(0x11)}) {
        CHECK(snp::product_from_cpuid(0x1A, model) == Product::Turin);
        CHECK_FALSE(snp::unsupported_product_from_cpuid(0x1A, uint8_t(model)));
    }
    for (int model : {0x12, 0x4F, 0x60, 0x7F, 0xB0, 0xD0})
        CHECK_FALSE(snp::unsupported_product_from_cpuid(0x1A, uint8_t(model)));
    CHECK(snp::unsupported_product_from_cpuid(0x1A, 0x50) == "Venice");
    CHECK_FALSE(snp::unsupported_product_from_cpuid(0x19, 0x50));  // family 19h model 50h: a Zen 3 client
    CHECK(snp::product_from_cpuid(0x19, 0xA0) == Product::Genoa);  // Siena
    CHECK(snp::product_from_cpuid(0x19, 0xAF) == Product::Genoa);  // Bergamo range

    // A model no product line covers is taken from the certificate (Turin here), and vek.product
    // then says the CPUID disagrees: refused, but not as Venice.
    auto verifier = test::make_verifier();
    Verification v = verifier->verify(with_cpuid(0x1A, 0x40, true), test::NO_REVOCATION);
    CHECK(v.product == Product::Turin);
    CHECK_FALSE(find(v, "vek.product")->pass);
    CHECK(find(v, "vek.product")->detail.find("Venice") == std::string::npos);
}
