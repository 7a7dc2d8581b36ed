// A derived key for the sealing tests: (base, base+1, ... base+15) twice, the pattern the
// Python-made golden blobs and hybrid passphrases in test_blob.cc and test_policy.cc were made with.
#pragma once

#include <cstdint>

#include "providers/report_provider.h"

namespace cvm::test {

inline agent::DerivedKey key_of(uint8_t base)
{
    agent::DerivedKey key;
    for (size_t i = 0; i < key.size(); ++i)
        key.expose()[i] = static_cast<uint8_t>(base + i % 16);
    return key;
}

}  // namespace cvm::test
