#include "vectors.h"

#include <doctest.h>

#include "base/file.h"

namespace cvm::test {

std::string vector_path(const std::string& relative)
{
    return std::string(CVM_VECTORS_DIR) + "/" + relative;
}

Bytes read_vector(const std::string& relative)
{
    auto data = read_file(vector_path(relative), 1 << 20);
    if (!data.ok())
        FAIL("cannot read test vector ", relative, ": ", std::string(data.error().message()));
    return data.release_value();
}

}  // namespace cvm::test
