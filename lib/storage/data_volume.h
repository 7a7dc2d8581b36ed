// The data volume's life cycle, from a blank disk to a mounted filesystem, safe against a crash
// at any point of the first boot (DESIGN.md §5):
//
//   header area blank  -> luks2::format (token "cvminit-formatting", primary header written last)
//   token present      -> unlock, activate, format_ext4, flush, luks2::finish_formatting
//   no token           -> unlock, activate: the volume is ready
//
// A crash before the primary header lands leaves the area blank: the next boot formats anew.
// A crash after it leaves the token: the next boot makes the filesystem again (nothing was on it
// yet). A crash inside finish_formatting is luks2::inspect's crash rule. A device whose header
// area is not blank and does not validate is refused and never written.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "base/secret.h"
#include "storage/block_device.h"
#include "storage/luks2_volume.h"

namespace cvm::storage {

// How the plaintext of a volume's segment becomes a block device: dm-crypt in the agent, a
// userspace CryptBlockDevice in host tests. It takes the volume key and must not keep a copy
// beyond what the returned device needs.
class Activator {
public:
    virtual ~Activator() = default;
    virtual Result<std::unique_ptr<BlockDevice>> activate(BlockDevice& device, const luks2::Volume& volume,
                                                          SecretBytes volume_key) = 0;
};

struct OpenedVolume {
    luks2::Volume volume;
    std::unique_ptr<BlockDevice> plaintext;
    bool formatted_now{false};  // the filesystem was made in this call
    std::string summary;        // one line for the console: what was done, never a key
};

// Brings `device` to an open volume with a filesystem, formatting it if blank or unfinished.
// `passphrase` is the broker's volume key (the keyslot passphrase).
Result<OpenedVolume> open_or_format(BlockDevice& device, ByteView passphrase, Activator& activator);

}  // namespace cvm::storage
