// libFuzzer harness: ATTESTATION_REPORT parsing, and serialize(parse(x)) == x for accepted input.
#include <cstdlib>
#include <cstring>

#include "snp/report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto report = cvm::snp::parse_report({data, size});
    if (report.ok()) {
        auto back = cvm::snp::serialize_report(report.value());
        if (size != back.size() || memcmp(back.data(), data, size) != 0)
            abort();  // an accepted report must be exactly the bytes its fields describe
    }
    return 0;
}
