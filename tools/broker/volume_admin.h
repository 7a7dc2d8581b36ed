// `cvm broker volume reset|recover|show NAME --config broker.toml`: the operator's side of the
// volume generations (volume_generations.h), acting on the store a running broker uses.
//
//   reset    forget the volume's generation: the next boot's disk is accepted as it is (a
//            "reset" record, which the broker logs when it next judges the volume)
//   recover  arm one release of the volume's recovery key (needs recovery_key_file): the next
//            attest that releases the volume includes it, and uses the arming up
//   show     the record (generation and the REPORT_ID that set it), whether recovery is armed
//
// The store is the configuration's: Redis under [store], the FileStore of [volumes] state_file.
// A broker that keeps them in its memory has nothing another process can change: Errc::Config
// saying so. Store failures are Errc::Unavailable naming the store.
#pragma once

#include <memory>
#include <string>

#include "config.h"
#include "store.h"

namespace cvm::broker {

enum class VolumeAction : uint8_t { Reset, Recover, Show };

// The store `cvm broker volume` acts on for `config`, as described above.
Result<std::unique_ptr<Store>> open_volume_store(const BrokerConfig& config);

// Performs `action` on volume `name` (a [[volume]] of `config`, else Errc::Config) in `store`;
// returns the lines to print. `now` (unix seconds) is recorded with an armed recovery.
Result<std::string> volume_admin(const BrokerConfig& config, Store& store, VolumeAction action, std::string_view name,
                                 int64_t now);

}  // namespace cvm::broker
