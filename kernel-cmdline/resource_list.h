// The list of resource names both measured cvminit.toml ([secrets] resources) and init-data's
// deployment settings (resources) carry, read one way: 1 to MAX_RESOURCES names, each
// proto::valid_resource_name(), none twice. Internal to kernel-cmdline.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "base/toml_reader.h"

namespace cvm::cmdline {

// Errc::Config naming `key` (as the file spells it) for anything else.
Result<std::vector<std::string>> read_resource_list(const TomlReader& r, const toml::node& node, const char* key);

}  // namespace cvm::cmdline
