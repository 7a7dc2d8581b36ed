// libFuzzer harness: policy files (TOML through toml++, then our key validation). Every policy
// that parses must print (to_toml) as a file that parses back to an equal policy: the property
// `cvm verify --print-policy` relies on, checked here on every input the fuzzer finds.
#include <cstdlib>
#include <string_view>

#include "policy/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto p = cvm::policy::parse_policy_toml({reinterpret_cast<const char*>(data), size});
    if (!p.ok())
        return 0;
    auto back = cvm::policy::parse_policy_toml(cvm::policy::to_toml(p.value()));
    if (!back.ok() || !(back.value() == p.value()))
        abort();
    return 0;
}
