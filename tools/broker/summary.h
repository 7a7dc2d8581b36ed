// What an operator reads at startup, on reload and from `cvm broker check`: the configuration's
// policy in one paragraph, and a loud warning for each setting that weakens it.
#pragma once

#include <string>
#include <vector>

#include "config.h"

namespace cvm::broker {

// One line (no newline): the measurements accepted, VMPL, debug, migration agent, minimum TCB
// per product, simulated evidence, key digests, the resources and who may have them, where
// VCEKs come from, and the nonce lifetime; the trusted release keys with their releases, each
// marked EXPIRED when it is at `now` (0: none is). Never a secret value.
std::string policy_summary(const BrokerConfig& config, int64_t now = 0);

// One line per weakening setting, each starting "WARNING: ": policy.allow_debug = true,
// policy.allow_simulated = true, no policy.min_tcb, policy.allow_migration_agent = true.
// Empty for a strict configuration.
std::vector<std::string> policy_warnings(const BrokerConfig& config);

}  // namespace cvm::broker
