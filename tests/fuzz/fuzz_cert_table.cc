// libFuzzer harness: GUID certificate table parsing; accepted tables rebuild to an equal table.
#include <cstdlib>

#include "snp/cert_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto table = cvm::snp::parse_cert_table({data, size});
    if (table.ok()) {
        auto again = cvm::snp::parse_cert_table(cvm::snp::build_cert_table(table.value()));
        if (!again.ok() || again.value().size() != table.value().size())
            abort();
        for (size_t i = 0; i < table.value().size(); ++i) {
            if (again.value()[i].der != table.value()[i].der || again.value()[i].guid != table.value()[i].guid)
                abort();
        }
    }
    return 0;
}
