#include "sim/product.h"

namespace cvm::sim {

namespace {

// Milan: family 19h model 01h (Milan-B0/B1 carry productName "Milan-B0"). Genoa: 19h model 11h,
// productName "Genoa" as recent KDS VCEKs have it. Turin: 1Ah model 02h, structVersion 1 with the
// FMC SPL and an 8-byte hwID (KDS spec 57230 Table 8). Firmware 1.55 is what the vectors report.
constexpr ProductTraits MILAN = {3, 0x19, 0x01, 1, 1, 55, 38, "Milan-B0", 0, 64, {0, 4, 0, 22, 213}};
constexpr ProductTraits GENOA = {3, 0x19, 0x11, 1, 1, 55, 40, "Genoa", 0, 64, {0, 9, 0, 23, 72}};
constexpr ProductTraits TURIN = {5, 0x1A, 0x02, 1, 1, 55, 61, "Turin", 1, 8, {1, 1, 0, 3, 72}};

}  // namespace

const ProductTraits& traits(snp::Product product)
{
    switch (product) {
    case snp::Product::Milan: return MILAN;
    case snp::Product::Genoa: return GENOA;
    case snp::Product::Turin: return TURIN;
    }
    return GENOA;
}

}  // namespace cvm::sim
