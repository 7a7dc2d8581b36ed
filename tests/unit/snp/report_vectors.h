// The real AMD-signed reports in tests/vectors/snp-reports, for tests of every layer.
#pragma once

#include <array>
#include <string>

namespace cvm::test {

inline const std::array<std::string, 6> REPORT_VECTORS = {
    "constellation_vlek_v2_SIGFAIL", "gosevguest_milan_v2",   "oak_turin_v5",
    "trustee_azure_genoa_v3",        "trustee_milan_vlek_v3", "virtee_milan_v2",
};

inline std::string report_path(const std::string& dir)
{
    return "snp-reports/" + dir + "/report.bin";
}

}  // namespace cvm::test
