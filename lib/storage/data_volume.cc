#include "storage/data_volume.h"

#include <cinttypes>

#include "storage/ext4_format.h"

namespace cvm::storage {
namespace {

Result<SecretBytes> call(const std::function<Result<SecretBytes>(std::string_view)>& f, std::string_view uuid,
                         const char* what)
{
    if (!f)
        return Error::make(Errc::Config, "data volume: no %s was given", what);
    return f(uuid);
}

// Blank: a new volume with the token at next_generation, state formatting.
Result<SecretBytes> format_new(BlockDevice& device, uint64_t next_generation, const VolumeSecrets& secrets,
                               OpenedVolume& out, std::string& done)
{
    if (secrets.require_recovery && !secrets.recovery)
        return Error::make(Errc::Config,
                           "data volume: refusing to format %s without a recovery key: its keyslot 0 passphrase "
                           "is bound to this chip, and only keyslot 1 would open it elsewhere",
                           device.name().c_str());
    luks2::FormatOptions options;
    options.uuid = luks2::random_uuid();
    options.generation = next_generation;
    options.derivation = secrets.derivation;
    SecretBytes passphrase = TRY(call(secrets.passphrase, options.uuid, "keyslot 0 passphrase"));
    SecretBytes recovery;
    if (secrets.recovery)
        recovery = TRY(secrets.recovery(options.uuid));
    if (secrets.require_recovery && recovery.size() == 0)
        return Error::make(Errc::Config, "data volume: refusing to format %s: the recovery key is empty",
                           device.name().c_str());
    auto [volume, key] = TRY(luks2::format(device, passphrase.expose(), options, recovery.expose()));
    out.volume = std::move(volume);
    done = secrets.recovery ? "formatted LUKS2 with a recovery keyslot" : "formatted LUKS2";
    return std::move(key);
}

// Valid: unlock (authenticating the header, or for one without a token only the key), check the
// generation, repair, one rewrite (which adopts a volume without a token).
Result<SecretBytes> open_existing(BlockDevice& device, const luks2::Inspection& seen, uint64_t next_generation,
                                  const VolumeSecrets& secrets, OpenedVolume& out, std::string& done)
{
    out.volume = *seen.volume;
    luks2::Volume& v = out.volume;
    SecretBytes passphrase = TRY(call(secrets.passphrase, v.uuid, "keyslot 0 passphrase"));
    // The key first: only a header that this key authenticates may be trusted or written back.
    // With a recovery key and a recovery keyslot, keyslot 1 opens it (VolumeSecrets::recovery).
    out.recovered = secrets.recovery && v.recovery_keyslot;
    Result<SecretBytes> key = Error::make(Errc::Config, "data volume: no keyslot tried");
    if (out.recovered) {
        SecretBytes recovery = TRY(secrets.recovery(v.uuid));
        key = luks2::unlock(device, v, recovery.expose(), 1);
    } else {
        key = luks2::unlock(device, v, passphrase.expose(), 0);
    }
    if (!key.ok())
        return key.error();
    SecretBytes volume_key = key.release_value();
    if (v.generation != next_generation - 1)
        return Error::make(Errc::Policy,
                           "data volume: %s holds generation %" PRIu64 "%s, expected %" PRIu64
                           " (the generation reported to the broker); an older or newer copy of the disk?",
                           device.name().c_str(), v.generation, v.adopt ? " (no cvminit token)" : "",
                           next_generation - 1);
    out.adopted = v.adopt;
    if (seen.repair_secondary) {
        TRY(luks2::repair_secondary(device, v, volume_key));
        done = "repaired the secondary header, ";
    }
    if (out.recovered) {
        v = TRY(
            luks2::reenroll_keyslot0(device, v, volume_key, passphrase.expose(), secrets.derivation, next_generation));
        done += "opened with the recovery keyslot and re-made keyslot 0, ";
    } else if (v.adopt) {
        v = TRY(luks2::adopt(device, v, volume_key, next_generation, secrets.derivation));
    } else {
        v = TRY(luks2::set_generation(device, v, volume_key, next_generation));
    }
    if (out.adopted)
        done += "adopted a LUKS2 volume without a cvminit token (now generation " + std::to_string(v.generation) + ")";
    else
        done += v.formatting ? "resumed an unfinished format" : "opened LUKS2";
    return volume_key;
}

}  // namespace

Result<OpenedVolume> open_or_format(BlockDevice& device, const luks2::Inspection& seen, uint64_t next_generation,
                                    const VolumeSecrets& secrets, Activator& activator)
{
    if (next_generation == 0)
        return Error::make(Errc::Config, "data volume: next generation 0, expected the reported generation + 1");
    if (seen.state == luks2::HeaderState::Valid && !seen.volume)
        return Error::make(Errc::Config, "data volume: a Valid inspection of %s without its volume",
                           device.name().c_str());
    OpenedVolume out;
    std::string done;
    SecretBytes volume_key;
    if (seen.state == luks2::HeaderState::Blank)
        volume_key = TRY(format_new(device, next_generation, secrets, out, done));
    else
        volume_key = TRY(open_existing(device, seen, next_generation, secrets, out, done));
    // Kept for finish_formatting, which must authenticate the header it rewrites.
    SecretBytes mac_key = out.volume.formatting ? SecretBytes::copy_of(volume_key.expose()) : SecretBytes();
    out.plaintext = TRY(activator.activate(device, out.volume, std::move(volume_key)));
    if (out.volume.formatting) {
        Ext4Layout fs = TRY_PREFIX(format_ext4(*out.plaintext, Ext4Options{}), "ext4 on %s", device.name().c_str());
        TRY(out.plaintext->flush());
        out.volume = TRY(luks2::finish_formatting(device, out.volume, mac_key));
        out.formatted_now = true;
        done += ", made ext4 (" + std::to_string(fs.bytes_written / 1024) + " KiB written)";
    }
    out.generation = out.volume.generation;
    out.summary = device.name() + ": " + done +
                  (out.adopted ? std::string() : ", generation " + std::to_string(out.generation)) + ", " +
                  std::to_string(out.volume.segment_size >> 20) + " MiB";
    return out;
}

}  // namespace cvm::storage
