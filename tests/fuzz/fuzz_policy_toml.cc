// libFuzzer harness: policy files (TOML through toml++, then our key validation).
#include <string_view>

#include "policy/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    (void)cvm::policy::parse_policy_toml({reinterpret_cast<const char*>(data), size});
    return 0;
}
