// Policy from an already parsed TOML table, for configuration files that embed a policy (the
// broker's [policy] table). The keys and their checks are those of parse_policy_toml().
#pragma once

#include <toml++/toml.hpp>

#include "policy/policy.h"

namespace cvm::policy {

// Errc::Config naming the key, exactly as parse_policy_toml(); `measurements` is required.
Result<Policy> parse_policy_table(const toml::table& table);

}  // namespace cvm::policy
