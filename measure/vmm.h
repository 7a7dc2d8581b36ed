// The VMMs whose launch sequence sev-snp-measure reproduces. They differ in the initial VMSA
// (vmsa.h) and in how they measure two metadata sections (snp.cc): EC2 adds the CPUID page after
// all other sections, GCE adds SNP_SEC_MEM as UNMEASURED instead of ZERO pages.
#pragma once

#include <optional>
#include <string_view>

namespace cvm::measure {

enum class VmmType { Qemu, Ec2, Gce };

// sev-snp-measure spells them "QEMU", "ec2", "gce"; "qemu" is accepted too.
inline std::optional<VmmType> vmm_type_from_name(std::string_view name)
{
    if (name == "QEMU" || name == "qemu")
        return VmmType::Qemu;
    if (name == "ec2")
        return VmmType::Ec2;
    if (name == "gce")
        return VmmType::Gce;
    return std::nullopt;
}

inline const char* vmm_type_name(VmmType t)
{
    switch (t) {
    case VmmType::Qemu: return "QEMU";
    case VmmType::Ec2: return "ec2";
    case VmmType::Gce: return "gce";
    }
    return "?";
}

}  // namespace cvm::measure
