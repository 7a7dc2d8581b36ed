// Access to tests/vectors for tests: the real AMD-signed reports, chains and firmware fixtures
// (their origin and SHA-256 in tests/vectors/PROVENANCE.md), read in place from the source tree.
#pragma once

#include <string>

#include "base/bytes.h"

namespace cvm::test {

// Absolute path of a file below the vectors directory, e.g. "snp-reports/virtee_milan_v2/report.bin".
std::string vector_path(const std::string& relative);

// Reads a vector file; a missing vector fails the calling test (it never skips silently).
Bytes read_vector(const std::string& relative);

}  // namespace cvm::test
