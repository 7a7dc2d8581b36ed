#include "snp/tcb.h"

#include <cstdio>

namespace cvm::snp {

std::string_view product_name(Product product)
{
    switch (product) {
    case Product::Milan: return "Milan";
    case Product::Genoa: return "Genoa";
    case Product::Turin: return "Turin";
    }
    return "?";
}

std::optional<Product> product_from_name(std::string_view name)
{
    std::string_view line = name.substr(0, name.find('-'));
    for (Product p : {Product::Milan, Product::Genoa, Product::Turin}) {
        if (line == product_name(p))
            return p;
    }
    return std::nullopt;
}

std::optional<Product> product_from_cpuid(uint8_t family, uint8_t model)
{
    if (family == 0x19 && model <= 0x0F)
        return Product::Milan;
    if (family == 0x19 && ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF)))
        return Product::Genoa;
    if (family == 0x1A && model <= 0x11)
        return Product::Turin;
    return std::nullopt;
}

std::optional<std::string_view> unsupported_product_from_cpuid(uint8_t family, uint8_t model)
{
    bool zen6 =
        (model >= 0x50 && model <= 0x5F) || (model >= 0x80 && model <= 0xAF) || (model >= 0xC0 && model <= 0xCF);
    if (family == 0x1A && zen6)
        return "Venice";
    return std::nullopt;
}

namespace {

uint8_t byte_at(uint64_t raw, int index)
{
    return static_cast<uint8_t>(raw >> (8 * index));
}

}  // namespace

TcbVersion TcbVersion::decode(uint64_t raw, Product product)
{
    TcbVersion t;
    if (product == Product::Turin) {
        t.fmc = byte_at(raw, 0);
        t.boot_loader = byte_at(raw, 1);
        t.tee = byte_at(raw, 2);
        t.snp = byte_at(raw, 3);
    } else {
        t.boot_loader = byte_at(raw, 0);
        t.tee = byte_at(raw, 1);
        t.snp = byte_at(raw, 6);
    }
    t.microcode = byte_at(raw, 7);
    return t;
}

uint64_t TcbVersion::encode(Product product) const
{
    uint64_t raw = uint64_t(microcode) << 56;
    if (product == Product::Turin)
        return raw | uint64_t(snp) << 24 | uint64_t(tee) << 16 | uint64_t(boot_loader) << 8 | fmc;
    return raw | uint64_t(snp) << 48 | uint64_t(tee) << 8 | boot_loader;
}

bool TcbVersion::at_least(const TcbVersion& minimum) const
{
    return fmc >= minimum.fmc && boot_loader >= minimum.boot_loader && tee >= minimum.tee && snp >= minimum.snp &&
           microcode >= minimum.microcode;
}

std::string TcbVersion::to_string(Product product) const
{
    char buf[64];
    if (product == Product::Turin)
        snprintf(buf, sizeof buf, "fmc=%u bl=%u tee=%u snp=%u ucode=%u", fmc, boot_loader, tee, snp, microcode);
    else
        snprintf(buf, sizeof buf, "bl=%u tee=%u snp=%u ucode=%u", boot_loader, tee, snp, microcode);
    return buf;
}

}  // namespace cvm::snp
