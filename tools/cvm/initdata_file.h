// An init-data document read from a file and checked as the agent will check it, for `cvm
// initdata` and `cvm launch`: the document itself (lib/initdata) and, when it has one, its
// "cvminit.toml" entry as the deployment settings the agent reads (kernel-cmdline/deployment.h),
// so a mistake the agent would stop the boot for is found on the host.
#pragma once

#include <string>

#include "base/result.h"
#include "initdata/initdata.h"

namespace cvm::cli {

// Reads `path` (at most initdata::MAX_INITDATA_SIZE bytes) and parses it. Errors are Errc::Config
// (or the read's) prefixed with the path; an entry's errors also name the entry.
Result<initdata::Document> load_initdata(const std::string& path);

// Checks the agent's entry of an already parsed document, when there is one.
Result<void> check_agent_entry(const initdata::Document& document);

}  // namespace cvm::cli
