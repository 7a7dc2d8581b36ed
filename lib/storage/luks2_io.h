// What format() and the rewrites share: reading both copies, the argument checks, the read-back
// after a write, zeroing, and making a keyslot.
//
// Internal to storage/luks2_*; luks2_volume.h is the interface.
#pragma once

#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"
#include "storage/block_device.h"
#include "storage/luks2_volume.h"

namespace cvm::storage::luks2 {

constexpr size_t DIGEST_SIZE = 32;  // the pbkdf2 digest's length (SHA-256)

// The device's first HEADERS_SIZE bytes; Errc::Io when it is smaller or a read fails.
Result<Bytes> read_headers(BlockDevice& dev);

// PASSPHRASE_MIN..PASSPHRASE_MAX bytes, Errc::Config otherwise.
Result<void> check_passphrase(ByteView passphrase);

// A derivation's policy is one of POLICIES, Errc::Config otherwise.
Result<void> check_derivation(const std::optional<Derivation>& d);

// `key` is the volume key `volume`'s digest was made of (PBKDF2-SHA256 with the digest's salt and
// iterations gives the digest): Errc::Crypto "the key for <what> <dev> does not match its digest"
// otherwise (`what` names the rewrite: "adopting", "re-enrolling keyslot 0 of").
Result<void> check_digest(BlockDevice& dev, const Volume& volume, ByteView key, const char* what);

// The read-back after a write: the device must now inspect as exactly `expected`, nothing to
// repair; Errc::Io naming `action` otherwise.
Result<void> verify_written(BlockDevice& dev, const Volume& expected, const char* action);

// Zeros over [at, at + size), in 1 MiB writes; no flush.
Result<void> write_zeros(BlockDevice& dev, uint64_t at, uint64_t size);

// A fresh keyslot for `key` under `passphrase`: a new random salt in `kdf` (kdf.iterations as
// given), and the AF_MATERIAL_SIZE bytes of encrypted AF material to write at its area.
Result<SecretBytes> make_keyslot(ByteView key, ByteView passphrase, Pbkdf2Params& kdf);

}  // namespace cvm::storage::luks2
