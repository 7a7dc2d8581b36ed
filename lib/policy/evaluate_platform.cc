// The platform rules of evaluate(): VMPL, report VERSION and its fields (CPUID, mitigation
// vectors), CHIP_ID and PLATFORM_INFO.
#include <cstdio>

#include "policy/claims.h"

namespace cvm::policy::detail {

namespace {

std::string version_text(const snp::AttestationReport& r)
{
    return "VERSION " + num(r.version);
}

std::string cpuid_text(const snp::AttestationReport& r)
{
    char buf[80];
    auto unsupported = snp::unsupported_product_from_cpuid(r.cpuid_fam_id, r.cpuid_mod_id);
    auto p = r.cpuid_product();
    snprintf(buf, sizeof buf, "family %02Xh model %02Xh stepping %u (%s)", r.cpuid_fam_id, r.cpuid_mod_id, r.cpuid_step,
             p             ? snp::product_name(*p).data()
             : unsupported ? unsupported->data()
                           : "no known SEV-SNP product");
    return buf;
}

// Every bit of `min` set in `have` (v5 reports only).
void mit_vector(Claims& c, const char* name, const char* field, uint64_t min, uint64_t have,
                const snp::AttestationReport& r)
{
    if (r.version < 5) {
        std::string found = version_text(r) + " has no " + field;
        if (min)
            c.add(name, false, found, "bits " + hex64(min) + " set (VERSION 5 or later)",
                  "the report predates mitigation vectors");
        else
            c.any(name, found);
        return;
    }
    if (min)
        c.add(name, (have & min) == min, hex64(have), "bits " + hex64(min) + " set",
              std::string(field) + " lacks required mitigation bits " + hex64(min & ~have));
    else
        c.any(name, hex64(have));
}

}  // namespace

void platform(Claims& c, const Policy& p, const snp::AttestationReport& r, snp::Product product)
{
    if (p.is_baseline)
        c.any("vmpl", num(r.vmpl));
    else
        c.add("vmpl", r.vmpl <= p.max_vmpl, num(r.vmpl), "<= " + num(p.max_vmpl), "VMPL too high");

    if (p.min_report_version > 2)
        c.add("report_version", r.version >= p.min_report_version, num(r.version), ">= " + num(p.min_report_version),
              "report VERSION too low");
    else
        c.any("report_version", num(r.version));

    // The CPUID fields (VERSION 3+) must name the product line the evidence was verified as.
    std::string line(snp::product_name(product));
    if (r.version < 3)
        c.add("cpuid", true, version_text(r) + " has no CPUID fields", "a " + line + " part");
    else
        c.add("cpuid", r.cpuid_product() == product, cpuid_text(r), "a " + line + " part",
              "the CPUID fields name another product line than the one the evidence was verified as");

    mit_vector(c, "launch_mit_vector", "LAUNCH_MIT_VECTOR", p.min_launch_mit_vector, r.launch_mit_vector, r);
    mit_vector(c, "current_mit_vector", "CURRENT_MIT_VECTOR", p.min_current_mit_vector, r.current_mit_vector, r);

    bool masked = r.chip_id == ChipId{};
    if (!p.chip_ids.empty() && masked)
        c.add("chip_id", false, to_hex(r.chip_id) + " (masked)", "one of " + num(p.chip_ids.size()) + " listed chips",
              "CHIP_ID is all zero: the host masked it (MASK_CHIP_ID), so the chip cannot be identified");
    else
        c.one_of("chip_id", p.chip_ids, r.chip_id, "CHIP_ID is not an allowed chip");

    const auto& names = platform_info_bits();
    std::string found = describe_bits(r.platform_info.raw, names);
    uint64_t need = p.required_platform_info, banned = p.forbidden_platform_info;
    if (need)
        c.add("platform_info", (r.platform_info.raw & need) == need, found, describe_bits(need, names) + " set",
              "required PLATFORM_INFO bits are clear: " + describe_bits(need & ~r.platform_info.raw, names));
    else
        c.any("platform_info", found);
    if (banned)
        c.add("platform_info_forbidden", (r.platform_info.raw & banned) == 0, found,
              describe_bits(banned, names) + " clear",
              "forbidden PLATFORM_INFO bits are set: " + describe_bits(r.platform_info.raw & banned, names));
    else
        c.any("platform_info_forbidden", found);
}

}  // namespace cvm::policy::detail
