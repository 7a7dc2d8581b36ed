// The data volume's life cycle, from a blank disk to a mounted filesystem, safe against a crash
// at any point (DESIGN.md §5), and against a host that edits or swaps the disk:
//
//   inspect (before attesting)  -> the agent reports the token's generation (Blank: 0) to the
//                                  broker, which answers with the keys or refuses a stale one
//   header area blank           -> luks2::format (token state "formatting", generation
//                                  next_generation, primary header written last)
//   otherwise                   -> unlock keyslot 0 (or keyslot 1 with the recovery key), which
//                                  authenticates the header; the token's generation must be
//                                  next_generation - 1; repair an interrupted rewrite; one rewrite
//                                  sets next_generation (and re-enrols keyslot 0 after recovery)
//   no token (luks2 ADOPTION)   -> unlock keyslot 0 (or keyslot 1 with the recovery key, when
//                                  there is one); the digest proves the key, there is no HMAC
//                                  yet; next_generation must be 1; one rewrite gives the header
//                                  our token (luks2::adopt, or the re-enrolment): state ready
//   state "formatting"          -> activate, format_ext4, flush, luks2::finish_formatting
//   state "ready"               -> activate: the volume is ready
//
// A crash before the primary header lands leaves the area blank: the next boot formats anew
// (once the broker allows it: it recorded generation 1 when it released the key, so a
// rollback-protected volume then needs `cvm broker volume reset`, docs/sealing.md).
// A crash after it leaves state "formatting": the next boot makes the filesystem again (nothing
// was on it yet). A crash inside any rewrite, the adoption included, is luks2::inspect's crash
// rule. A volume without a token is adopted only because the broker released its key for
// generation 0, which it does only for a volume it knows no generation of (luks2_volume.h). A
// device whose header area is not blank and does not validate or authenticate is refused and
// never written.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
    luks2::Volume volume;  // authenticated, as the device holds it now
    std::unique_ptr<BlockDevice> plaintext;
    bool formatted_now{false};  // the filesystem was made in this call
    uint64_t generation{};      // the token's generation now: next_generation
    bool recovered{false};      // keyslot 1 opened it and keyslot 0 was re-made
    bool adopted{false};        // it had no cvminit token and now has ours (luks2 ADOPTION)
    std::string summary;        // one line for the console: what was done, never a key
};

struct VolumeSecrets {
    // keyslot 0's passphrase for the volume with this UUID (the broker's key as it is, or a hybrid
    // passphrase); called once, after inspect, with the UUID format() chose or the header's
    std::function<Result<SecretBytes>(std::string_view uuid)> passphrase;
    // the broker's recovery key, or empty (no function): format() then makes no keyslot 1;
    // open: when set and the volume has keyslot 1, keyslot 1 opens it and keyslot 0 is re-made
    // with `passphrase` (a volume moved to another chip); keyslot 0 is then not tried. Called at
    // most once. Without keyslot 1 the volume opens with keyslot 0 as usual.
    std::function<Result<SecretBytes>(std::string_view uuid)> recovery;
    bool require_recovery{false};  // hybrid: format() refuses without a recovery key, or an empty one (Errc::Config)
    std::optional<luks2::Derivation> derivation;  // stored in the token by format()/re-enrol
};

// Brings `device` to an open volume with a filesystem, formatting it if blank or unfinished.
// `seen` is inspect()'s result from before attesting (the header is not read again and
// trusted: every write re-checks that the device still holds the Volume `seen` describes, or fails);
// `next_generation` = the generation the agent reported to the broker + 1 (blank reports 0):
// after success the token holds exactly next_generation. A volume whose (authenticated) token
// holds another generation than next_generation - 1 is Errc::Policy naming both, nothing
// written; so is a volume without a token (generation 0) unless next_generation is 1;
// next_generation 0 is Errc::Config. Errors of the secrets' functions pass through.
Result<OpenedVolume> open_or_format(BlockDevice& device, const luks2::Inspection& seen, uint64_t next_generation,
                                    const VolumeSecrets& secrets, Activator& activator);

}  // namespace cvm::storage
