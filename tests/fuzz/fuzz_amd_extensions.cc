// libFuzzer harness: the AMD VCEK/VLEK X.509 extensions (content of an Extensions SEQUENCE).
#include "snp/amd_extensions.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto ext = cvm::snp::parse_amd_extensions({data, size});
    if (ext.ok()) {
        for (auto product : {cvm::snp::Product::Milan, cvm::snp::Product::Turin})
            (void)ext.value().tcb(product);
    }
    return 0;
}
