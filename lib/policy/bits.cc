#include <cstdio>

#include "policy/policy.h"

namespace cvm::policy {

namespace {

std::optional<uint64_t> find_bit(const std::vector<NamedBit>& bits, std::string_view name)
{
    for (const NamedBit& b : bits) {
        if (b.name == name)
            return b.mask;
    }
    return std::nullopt;
}

}  // namespace

// 56860 rev 1.58 Table 24 "PLATFORM_INFO Field"; bit 6 is set by real Turin parts (oak_turin_v5)
// but named by no specification we have, so it stays an undefined bit.
const std::vector<NamedBit>& platform_info_bits()
{
    static const std::vector<NamedBit> BITS = {
        {"smt", 1u << 0},
        {"tsme", 1u << 1},
        {"ecc", 1u << 2},
        {"rapl_disabled", 1u << 3},
        {"ciphertext_hiding", 1u << 4},
        {"alias_check_complete", 1u << 5},
        {"tio", 1u << 7},
    };
    return BITS;
}

// 56860 rev 1.58 Table 9 "Guest Policy Structure" (bits 16..25; 17 is reserved-must-be-one and
// 18/19 are the migration agent and debug bits, which have their own allow_* keys).
const std::vector<NamedBit>& guest_policy_bits()
{
    static const std::vector<NamedBit> BITS = {
        {"smt", 1u << 16},
        {"single_socket", 1u << 20},
        {"cxl_allow", 1u << 21},
        {"mem_aes_256_xts", 1u << 22},
        {"rapl_dis", 1u << 23},
        {"ciphertext_hiding", 1u << 24},
        {"page_swap_disable", 1u << 25},
    };
    return BITS;
}

std::optional<uint64_t> platform_info_bit(std::string_view name)
{
    return find_bit(platform_info_bits(), name);
}

std::optional<uint64_t> guest_policy_bit(std::string_view name)
{
    return find_bit(guest_policy_bits(), name);
}

std::string describe_bits(uint64_t raw, const std::vector<NamedBit>& names)
{
    char buf[32];
    snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(raw));
    std::string named, undefined;
    uint64_t known = 0;
    for (const NamedBit& b : names) {
        known |= b.mask;
        if (raw & b.mask)
            named += (named.empty() ? "" : " ") + std::string(b.name);
    }
    for (int bit = 0; bit < 64; ++bit) {
        if ((raw & ~known) >> bit & 1)
            undefined += (undefined.empty() ? "undefined bit " : ", undefined bit ") + std::to_string(bit);
    }
    if (named.empty() && undefined.empty())
        return std::string(buf) + " (none)";
    return std::string(buf) + " (" + named + (named.empty() || undefined.empty() ? "" : ", ") + undefined + ")";
}

}  // namespace cvm::policy
