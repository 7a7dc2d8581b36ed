// What a simulated part of each product line looks like, from real AMD-signed evidence
// (tests/vectors/snp-reports: Milan v2/v3, Azure Genoa v3, Turin v5). Internal to lib/sim.
#pragma once

#include <cstdint>
#include <string_view>

#include "snp/tcb.h"

namespace cvm::sim {

struct ProductTraits {
    uint32_t report_version;  // ATTESTATION_REPORT VERSION the firmware writes
    uint8_t cpuid_fam, cpuid_mod, cpuid_step;
    uint8_t fw_major, fw_minor, fw_build;  // CURRENT_/COMMITTED_ firmware version
    std::string_view product_name;         // the VCEK productName extension
    uint32_t struct_version;               // the VCEK structVersion (TCB layout)
    size_t hwid_size;                      // bytes of CHIP_ID the VCEK hwID carries
    snp::TcbVersion default_tcb;
};

const ProductTraits& traits(snp::Product product);

}  // namespace cvm::sim
