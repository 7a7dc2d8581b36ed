// vCPU signatures: the CPUID Fn0000_0001_EAX value a guest vCPU reports, which the VMM puts in
// RDX of the initial VMSA (QEMU; EC2 and GCE use a fixed value instead).
//
// AMD CPUID Specification (publication 25481), "CPUID Fn0000_0001_EAX Family, Model, Stepping
// Identifiers": family above 0xF is split into BaseFamily 0xF plus ExtFamily (family - 0xF),
// model into ExtModel (high nibble) and BaseModel (low nibble):
//
//   EAX = ExtFamily[27:20] | ExtModel[19:16] | BaseFamily[11:8] | BaseModel[7:4] | Stepping[3:0]
//
// The named types are those of sev-snp-measure 0.0.13 (QEMU's builtin_x86_defs names).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cvm::measure {

inline constexpr uint32_t MAX_CPU_FAMILY = 0xF + 0xFF;
inline constexpr uint32_t MAX_CPU_MODEL = 0xFF;
inline constexpr uint32_t MAX_CPU_STEPPING = 0xF;

// The signature of family/model/stepping; Errc::Config when one is beyond its field.
Result<uint32_t> cpu_sig(uint32_t family, uint32_t model, uint32_t stepping);

struct VcpuType {
    std::string_view name;
    uint32_t family;
    uint32_t model;
    uint32_t stepping;
};

// Every known type, in sev-snp-measure's order.
std::span<const VcpuType> vcpu_types();

// The signature of a named type ("EPYC-Milan"); nullopt for an unknown name.
std::optional<uint32_t> vcpu_type_sig(std::string_view name);

// "EPYC, EPYC-v1, ..." for messages.
std::string vcpu_type_names();

}  // namespace cvm::measure
