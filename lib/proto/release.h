// The sealed plaintext of an attest answer (docs/cvmkb-1.md §6):
//   {"secrets": [{"name": "...", "value": b64, "env": "NAME"?}],
//    "volumes": [{"name": "...", "key": b64, "recovery": b64?}]}
// It holds key material from end to end: the broker writes it straight into wiping storage, and
// the agent parses it in place (yyjson's in-situ mode) from its wiping buffer, so no copy of a
// value exists outside a SecretBytes on either side.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/secret.h"

namespace cvm::proto {

struct ReleasedSecret {
    std::string name;  // valid_resource_name()
    SecretBytes value;
    std::optional<std::string> env;  // valid_env_name()
};

struct ReleasedVolume {
    std::string name;
    SecretBytes key;
    SecretBytes recovery{};  // empty: none. The broker-only passphrase of the recovery keyslot (1),
                             // released on a blank volume's first format or when an operator armed it
};

struct Release {
    std::vector<ReleasedSecret> secrets;
    std::vector<ReleasedVolume> volumes;
};

// Errc::Config when a name or env name is invalid (the broker's configuration checks them first).
Result<SecretBytes> serialize_release(const Release& release);

// Errc::Format naming the member for anything but exactly that shape; names unique across both lists.
Result<Release> parse_release(ByteView plaintext);

}  // namespace cvm::proto
