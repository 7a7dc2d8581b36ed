// What the release library's files share. Internal to lib/release.
#pragma once

#include <string>

#include "base/result.h"
#include "release/release.h"

namespace cvm::release {

// to_json with its failure kept: Errc::Config when a string of the statement is not UTF-8 (the
// only thing RFC 8785 JSON cannot carry), so make_bundle refuses instead of signing "".
Result<std::string> statement_json(const Statement& statement);

}  // namespace cvm::release
