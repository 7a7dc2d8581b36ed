// The [store] table of the broker's configuration (keys and rules: store_config.h).
#pragma once

#include <toml++/toml.hpp>

#include <string>

#include "store_config.h"

namespace cvm::broker {

// Parses the [store] table; relative paths are relative to `base_dir`. Errc::Config naming the
// key ("store.timeout_ms"), the value found (never the password) and what is expected.
Result<StoreConfig> parse_store_table(const toml::table& table, const std::string& base_dir);

}  // namespace cvm::broker
