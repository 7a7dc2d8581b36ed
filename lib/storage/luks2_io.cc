#include "storage/luks2_io.h"

#include <algorithm>
#include <cinttypes>

#include "storage/luks2_header.h"
#include "storage/luks2_keyslot.h"
#include "storage/xts.h"

namespace cvm::storage::luks2 {
namespace {

constexpr size_t ZERO_CHUNK = 1 << 20;

}  // namespace

Result<Bytes> read_headers(BlockDevice& dev)
{
    if (dev.size() < HEADERS_SIZE)
        return Error::make(Errc::Io, "luks2: %s is %" PRIu64 " bytes, too small for two 16 KiB header copies",
                           dev.name().c_str(), dev.size());
    Bytes headers(HEADERS_SIZE);
    TRY(dev.read_at(0, headers));
    return headers;
}

Result<void> check_passphrase(ByteView passphrase)
{
    if (passphrase.size() < PASSPHRASE_MIN || passphrase.size() > PASSPHRASE_MAX)
        return Error::make(Errc::Config, "luks2: passphrase is %zu bytes, expected %zu..%zu", passphrase.size(),
                           PASSPHRASE_MIN, PASSPHRASE_MAX);
    return {};
}

Result<void> check_digest(BlockDevice& dev, const Volume& volume, ByteView key, const char* what)
{
    SecretBytes check = TRY(pbkdf2_sha256(key, volume.digest_kdf.salt, volume.digest_kdf.iterations, DIGEST_SIZE));
    if (!constant_time_equal(check.expose(), volume.digest))
        return Error::make(Errc::Crypto, "luks2: the key for %s %s does not match its digest (Key incorrect?)", what,
                           dev.name().c_str());
    return {};
}

// The read-back after a write: the device must now hold exactly `expected`.
Result<void> verify_written(BlockDevice& dev, const Volume& expected, const char* action)
{
    Inspection now = TRY_PREFIX(inspect(dev), "luks2: after %s", action);
    if (now.state != HeaderState::Valid || now.repair_secondary || *now.volume != expected)
        return Error::make(Errc::Io, "luks2: %s does not read back the header %s wrote", dev.name().c_str(), action);
    return {};
}

Result<void> check_derivation(const std::optional<Derivation>& d)
{
    if (d && std::find(std::begin(POLICIES), std::end(POLICIES), d->policy) == std::end(POLICIES))
        return Error::make(Errc::Config,
                           "luks2: derivation policy \"%s\", expected measurement-and-chip, measurement-only or "
                           "chip-only",
                           shown(d->policy).c_str());
    return {};
}

Result<void> write_zeros(BlockDevice& dev, uint64_t at, uint64_t size)
{
    Bytes zeros(std::min<uint64_t>(ZERO_CHUNK, size));
    for (uint64_t end = at + size; at < end;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), end - at));
        TRY(dev.write_at(at, ByteView(zeros).first(n)));
        at += n;
    }
    return {};
}

// A fresh keyslot for `key` under `passphrase`: new salt in `kdf`, the encrypted AF material.
Result<SecretBytes> make_keyslot(ByteView key, ByteView passphrase, Pbkdf2Params& kdf)
{
    fill_random(kdf.salt);
    SecretBytes material = af_split(key);
    SecretBytes area_key = TRY(pbkdf2_sha256(passphrase, kdf.salt, kdf.iterations, AF_KEY_SIZE));
    XtsCipher cipher = TRY(XtsCipher::create(area_key.expose()));
    TRY(cipher.encrypt(material.expose(), KEYSLOT_SECTOR_SIZE, 0));
    return material;
}

// Reads keyslot material at `offset` and decrypts and merges it with `passphrase`.
}  // namespace cvm::storage::luks2
