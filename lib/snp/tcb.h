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

// Product line from the report's CPUID fields (report version 3 and later), as KDS names it:
//   family 19h (Zen 3/Zen 4) models 00h-0Fh   Milan
//   family 19h models 10h-1Fh (Genoa) and A0h-AFh (the Zen 4c parts Bergamo and Siena)   Genoa:
//       KDS serves their VCEKs under /vcek/v1/Genoa (tests/vectors/trustee_kbs/evidence.json: model A0h)
//   family 1Ah (Zen 5) models 00h-11h: Turin (02h, seen in oak_turin_v5) and Turin dense (11h)
// Sources: Linux arch/x86/kernel/cpu/amd.c: bsp_init_amd() (Zen 4 family 19h models 10h-1Fh,
// A0h-AFh; Zen 5 family 1Ah models 00h-2Fh, 40h-4Fh, 60h-7Fh, the client parts above 1Fh);
// the ranges snpguest and trustee use (../shared/reference/report.md §1.1).
// nullopt for anything else, including version 2 reports (all zero) and Venice.
std::optional<Product> product_from_cpuid(uint8_t family, uint8_t model);

// A product line that has SEV-SNP but that this verifier refuses, by name, so that its reports
// are refused clearly rather than misparsed: "Venice" for family 1Ah Zen 6 models 50h-5Fh,
// 80h-AFh and C0h-CFh (Linux arch/x86/kernel/cpu/amd.c: bsp_init_amd(), X86_FEATURE_ZEN6,
// as of commit "x86/CPU/AMD: Add more Zen6 models", 2025-10). AMD has not published the KDS
// product name, certificate chain or TCB layout of Venice, so it is not supported until it does.
std::optional<std::string_view> unsupported_product_from_cpuid(uint8_t family, uint8_t model);

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
