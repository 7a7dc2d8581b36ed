#include <doctest.h>

#include "snp/tcb.h"

using namespace cvm::snp;

TEST_CASE("TCB layouts differ between Milan/Genoa and Turin")
{
    uint64_t raw = 0x7308000000000003ull;  // virtee_milan_v2 REPORTED_TCB
    auto milan = TcbVersion::decode(raw, Product::Milan);
    CHECK(milan.boot_loader == 3);
    CHECK(milan.tee == 0);
    CHECK(milan.snp == 8);
    CHECK(milan.microcode == 0x73);
    CHECK(milan.encode(Product::Milan) == raw);
    CHECK(milan.to_string(Product::Milan) == "bl=3 tee=0 snp=8 ucode=115");

    uint64_t turin_raw = 0x4700000002000100ull;
    auto turin = TcbVersion::decode(turin_raw, Product::Turin);
    CHECK(turin.encode(Product::Turin) == turin_raw);
    CHECK(turin.to_string(Product::Turin) == "fmc=0 bl=1 tee=0 snp=2 ucode=71");
}

TEST_CASE("TCB comparison is component-wise")
{
    TcbVersion have{0, 3, 0, 8, 115};
    CHECK(have.at_least({0, 3, 0, 8, 115}));
    CHECK(have.at_least({0, 2, 0, 8, 100}));
    CHECK_FALSE(have.at_least({0, 3, 0, 9, 0}));  // higher SNP, lower everything else
    CHECK_FALSE(have.at_least({0, 0, 1, 0, 0}));
    CHECK_FALSE(have.at_least({0, 3, 0, 8, 116}));
    CHECK_FALSE(have.at_least({1, 0, 0, 0, 0}));
}

TEST_CASE("product names and CPUID ranges")
{
    CHECK(product_from_name("Milan-B0") == Product::Milan);
    CHECK(product_from_name("Genoa") == Product::Genoa);
    CHECK(product_from_name("Turin") == Product::Turin);
    CHECK_FALSE(product_from_name("milan"));
    CHECK_FALSE(product_from_name(""));
    CHECK(product_from_cpuid(0x19, 0x01) == Product::Milan);
    CHECK(product_from_cpuid(0x19, 0x11) == Product::Genoa);
    CHECK(product_from_cpuid(0x19, 0xA0) == Product::Genoa);
    CHECK(product_from_cpuid(0x1A, 0x02) == Product::Turin);
    CHECK_FALSE(product_from_cpuid(0x19, 0x20));
    CHECK_FALSE(product_from_cpuid(0x1A, 0x12));
    CHECK_FALSE(product_from_cpuid(0, 0));
}
