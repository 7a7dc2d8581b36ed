// Internal to the policy layer: the typed value parsers of the policy file (policy_toml.cc).
// Each fails with Errc::Config naming the key, as toml_reader.h describes.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "base/toml_reader.h"
#include "policy/policy.h"

namespace cvm::policy::toml_values {

extern const TomlReader R;  // context "policy"

Result<uint32_t> small(const toml::node& v, const std::string& key, int64_t max);

// "MAJOR.MINOR", each 0..255 (min_abi, min_version).
Result<std::pair<uint8_t, uint8_t>> major_minor(const toml::node& v, const std::string& key);

// A list of bit names from `names` (an empty list is allowed and means none); unknown names
// fail listing the known ones.
Result<uint64_t> bit_list(const toml::node& v, const std::string& key, const std::vector<NamedBit>& names);

// A non-empty list of 64-byte CHIP_IDs; an all-zero one (a masked CHIP_ID) is refused.
Result<std::vector<ChipId>> chip_ids(const toml::node& v, const std::string& key);

// Tables [KEY.Milan], [KEY.Genoa], [KEY.Turin] of bootloader, tee, snp, microcode (and fmc).
Result<std::map<snp::Product, snp::TcbVersion>> tcb_tables(const toml::node& v, const std::string& key);

}  // namespace cvm::policy::toml_values
