// Products and TCB_VERSION: the 8-byte security-patch-level vector whose layout depends on the
// product (AMD SEV-SNP ABI 56860 rev 1.58, "TCB_VERSION"; KDS spec 57230 structVersion 0/1).
//
//   Milan, Genoa (structVersion 0): byte0 BOOT_LOADER, byte1 TEE, bytes2-5 reserved, byte6 SNP,
//                                   byte7 MICROCODE
//   Turin (structVersion 1):        byte0 FMC, byte1 BOOT_LOADER, byte2 TEE, byte3 SNP,
//                                   bytes4-6 reserved, byte7 MICROCODE
//
// TCB values are compared component by component, never as a plain u64.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cvm::snp {

enum class Product : uint8_t { Milan, Genoa, Turin };

// The KDS product line name: "Milan", "Genoa", "Turin".
std::string_view product_name(Product product);

// Parses a product line name as users and VCEK productName extensions spell it: "Milan",
// "Milan-B0", "Genoa", "Genoa-B1", "Turin"... (the stepping suffix is ignored). Case-sensitive.
std::optional<Product> product_from_name(std::string_view name);

// Product line from the report's CPUID fields (report version 3 and later): family 0x19 models
// 0x00-0x0F Milan, 0x10-0x1F and 0xA0-0xAF Genoa (incl. Bergamo and Siena), family 0x1A models
// 0x00-0x11 Turin. nullopt for anything else, including version 2 reports (all zero).
std::optional<Product> product_from_cpuid(uint8_t family, uint8_t model);

struct TcbVersion {
    uint8_t fmc{0};  // Turin only; 0 on Milan/Genoa
    uint8_t boot_loader{0};
    uint8_t tee{0};
    uint8_t snp{0};
    uint8_t microcode{0};

    static TcbVersion decode(uint64_t raw, Product product);
    uint64_t encode(Product product) const;

    // True when every component is >= the corresponding one in `minimum`.
    bool at_least(const TcbVersion& minimum) const;
    bool operator==(const TcbVersion&) const = default;

    // "bl=3 tee=0 snp=8 ucode=115" (with "fmc=N " first on Turin).
    std::string to_string(Product product) const;
};

}  // namespace cvm::snp
