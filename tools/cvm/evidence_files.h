// Evidence from files, as `cvm verify` takes it.
#pragma once

#include <string>

#include "base/result.h"
#include "verify/evidence.h"

namespace cvm::cli {

// Upper bound for any evidence file we read (a report, a certificate, a table, a chain).
inline constexpr size_t MAX_EVIDENCE_FILE = 1 << 20;

// A directory laid out as tests/vectors/snp-reports/<name>/: `vcek.der` or `vlek.der`, and
// `ask_ark.pem`, or `ask.pem`/`asvk.pem` + `ark.pem`; each PEM or DER; other files are ignored.
// The ASK and ARK are optional (the built-in AMD ones are used). Fails naming the directory when
// there is no VCEK or VLEK, or both.
Result<void> load_cert_dir(const std::string& dir, verify::Evidence& evidence);

}  // namespace cvm::cli
