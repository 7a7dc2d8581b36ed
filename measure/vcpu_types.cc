#include "measure/vcpu_types.h"

#include <string>

namespace cvm::measure {

namespace {

constexpr VcpuType TYPES[] = {
    {"EPYC", 23, 1, 2},          {"EPYC-v1", 23, 1, 2},       {"EPYC-v2", 23, 1, 2},        {"EPYC-IBPB", 23, 1, 2},
    {"EPYC-v3", 23, 1, 2},       {"EPYC-v4", 23, 1, 2},       {"EPYC-Rome", 23, 49, 0},     {"EPYC-Rome-v1", 23, 49, 0},
    {"EPYC-Rome-v2", 23, 49, 0}, {"EPYC-Rome-v3", 23, 49, 0}, {"EPYC-Milan", 25, 1, 1},     {"EPYC-Milan-v1", 25, 1, 1},
    {"EPYC-Milan-v2", 25, 1, 1}, {"EPYC-Genoa", 25, 17, 0},   {"EPYC-Genoa-v1", 25, 17, 0}, {"EPYC-Turin", 26, 0, 0},
};

}  // namespace

Result<uint32_t> cpu_sig(uint32_t family, uint32_t model, uint32_t stepping)
{
    if (family > MAX_CPU_FAMILY || model > MAX_CPU_MODEL || stepping > MAX_CPU_STEPPING)
        return Error::make(Errc::Config,
                           "vCPU family %u, model %u, stepping %u: expected family <= %u, model <= %u, stepping <= %u",
                           family, model, stepping, MAX_CPU_FAMILY, MAX_CPU_MODEL, MAX_CPU_STEPPING);
    uint32_t base_family = family > 0xF ? 0xF : family;
    uint32_t ext_family = family > 0xF ? family - 0xF : 0;
    return ext_family << 20 | (model >> 4) << 16 | base_family << 8 | (model & 0xF) << 4 | stepping;
}

std::span<const VcpuType> vcpu_types()
{
    return TYPES;
}

std::optional<uint32_t> vcpu_type_sig(std::string_view name)
{
    for (const VcpuType& t : TYPES) {
        if (t.name == name)
            return cpu_sig(t.family, t.model, t.stepping).value();
    }
    return std::nullopt;
}

std::string vcpu_type_names()
{
    std::string out;
    for (const VcpuType& t : TYPES) {
        if (!out.empty())
            out += ", ";
        out += t.name;
    }
    return out;
}

}  // namespace cvm::measure
