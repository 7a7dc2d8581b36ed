#include <cinttypes>

#include "storage/luks2_header.h"
#include "storage/luks2_io.h"
#include "storage/luks2_keyslot.h"
#include "storage/luks2_metadata.h"
#include "storage/luks2_volume.h"

namespace cvm::storage::luks2 {
namespace {

// Writes `next` (seqid and hmac already set) over the device, which must hold exactly `current`:
// optional new keyslot 0 material first, then the primary copy, then the secondary.
Result<Volume> rewrite(BlockDevice& dev, const Volume& current, const Volume& next, ByteView keyslot0_material,
                       const char* action)
{
    Inspection now = TRY_PREFIX(inspect(dev), "luks2: before %s", action);
    if (now != Inspection{HeaderState::Valid, current, false})
        return Error::make(Errc::Config, "luks2: the header of %s is not the one validated for %s; refusing",
                           dev.name().c_str(), action);
    if (!keyslot0_material.empty()) {
        TRY(write_zeros(dev, next.keyslot_area_offset, next.keyslot_area_size));
        TRY(dev.write_at(next.keyslot_area_offset, keyslot0_material));
        TRY(dev.flush());
    }
    std::string json = write_metadata(next);
    Bytes primary = TRY(build_copy(Copy::Primary, next.seqid, next.label, next.uuid, json));
    Bytes secondary = TRY(build_copy(Copy::Secondary, next.seqid, next.label, next.uuid, json));
    TRY(dev.write_at(PRIMARY_OFFSET, primary));
    TRY(dev.flush());
    TRY(dev.write_at(SECONDARY_OFFSET, secondary));
    TRY(dev.flush());
    TRY(verify_written(dev, next, action));
    return next;
}

// `volume` authenticated by `key` (one without a token, which has no HMAC: `key` opens its
// digest), and a copy of it with the next seqid and our token, for a rewrite.
Result<Volume> next_of(BlockDevice& dev, const Volume& volume, const SecretBytes& key, const char* action)
{
    if (volume.adopt)
        TRY(check_digest(dev, volume, key.expose(), action));
    else
        TRY(authenticate(dev, volume, key));
    if (volume.seqid == UINT64_MAX)
        return Error::make(Errc::Format, "luks2 header: seqid is %" PRIu64 ", the largest there is: no next header",
                           volume.seqid);
    Volume next = volume;
    next.seqid = volume.seqid + 1;
    next.adopt = false;  // ADOPTION: the rewrite writes our token (state ready: parse_tokens' default)
    return next;
}

}  // namespace

Result<Volume> finish_formatting(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key)
{
    if (!volume.formatting)
        return Error::make(Errc::Config, "luks2: the token of %s is already in state ready", dev.name().c_str());
    Volume next = TRY(next_of(dev, volume, volume_key, "finishing formatting"));
    next.formatting = false;
    next.hmac = header_hmac(next, volume_key.expose());
    // Already interrupted after this very rewrite: only the secondary is left to write.
    Inspection now = TRY_PREFIX(inspect(dev), "luks2: before finishing formatting");
    if (now == Inspection{HeaderState::Valid, next, true}) {
        TRY(repair_secondary(dev, next, volume_key));
        return next;
    }
    return rewrite(dev, volume, next, {}, "finishing formatting");
}

Result<Volume> set_generation(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key,
                              uint64_t generation)
{
    if (volume.adopt)
        return Error::make(Errc::Config, "luks2: %s has no cvminit token to set the generation in (adopt it first)",
                           dev.name().c_str());
    Volume next = TRY(next_of(dev, volume, volume_key, "setting the generation"));
    next.generation = generation;
    next.hmac = header_hmac(next, volume_key.expose());
    return rewrite(dev, volume, next, {}, "setting the generation");
}

Result<Volume> adopt(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key, uint64_t generation,
                     const std::optional<Derivation>& derivation)
{
    if (!volume.adopt)
        return Error::make(Errc::Config,
                           "luks2: %s already has a cvminit token (generation %" PRIu64 "): nothing to adopt",
                           dev.name().c_str(), volume.generation);
    if (generation == 0)
        return Error::make(Errc::Config, "luks2: adopting %s at generation 0, expected at least 1", dev.name().c_str());
    TRY(check_derivation(derivation));
    Volume next = TRY(next_of(dev, volume, volume_key, "adopting"));
    next.generation = generation;
    next.derivation = derivation;
    next.hmac = header_hmac(next, volume_key.expose());
    return rewrite(dev, volume, next, {}, "adopting the volume");
}

Result<Volume> reenroll_keyslot0(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key,
                                 ByteView new_passphrase, const std::optional<Derivation>& derivation,
                                 uint64_t generation)
{
    TRY(check_passphrase(new_passphrase));
    TRY(check_derivation(derivation));
    if (!volume.recovery_keyslot)
        return Error::make(Errc::Config, "luks2: %s has no recovery keyslot: keyslot 0 is its only one",
                           dev.name().c_str());
    Volume next = TRY(next_of(dev, volume, volume_key, "re-enrolling keyslot 0 of"));
    // The first AF-sized area that overlaps neither keyslot: the old keyslot 0 stays intact
    // until both copies name the new one.
    auto overlaps = [](uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
        return a < b + b_size && b < a + a_size;
    };
    const uint64_t end = KEYSLOTS_AREA_OFFSET + volume.keyslots_size;
    uint64_t at = KEYSLOTS_AREA_OFFSET;
    while (at + AF_AREA_MIN_SIZE <= end &&
           (overlaps(at, AF_AREA_MIN_SIZE, volume.keyslot_area_offset, volume.keyslot_area_size) ||
            overlaps(at, AF_AREA_MIN_SIZE, volume.recovery_area_offset, volume.recovery_area_size)))
        at += AREA_ALIGNMENT;
    if (at + AF_AREA_MIN_SIZE > end)
        return Error::make(Errc::Config, "luks2: the keyslots area of %s has no room for a new keyslot 0",
                           dev.name().c_str());
    next.keyslot_area_offset = at;
    next.keyslot_area_size = AF_AREA_MIN_SIZE;
    SecretBytes material = TRY(make_keyslot(volume_key.expose(), new_passphrase, next.keyslot_kdf));
    next.derivation = derivation;
    next.generation = generation;
    next.hmac = header_hmac(next, volume_key.expose());
    TRY(rewrite(dev, volume, next, material.expose(), "re-enrolling keyslot 0"));
    // Both copies name the new keyslot 0: the old one, opened by the old passphrase, goes.
    TRY(write_zeros(dev, volume.keyslot_area_offset, volume.keyslot_area_size));
    TRY(dev.flush());
    return next;
}

Result<void> repair_secondary(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key)
{
    TRY(authenticate(dev, volume, volume_key));
    // One read, judged and then copied from: the bytes written are the bytes validated.
    Bytes headers = TRY(read_headers(dev));
    Inspection now = TRY_PREFIX(parse_headers(headers, dev.size()), "luks2: before repairing %s", dev.name().c_str());
    if (now != Inspection{HeaderState::Valid, volume, true})
        return Error::make(Errc::Config, "luks2: the header of %s is not the one validated for repairing; refusing",
                           dev.name().c_str());
    HeaderCopy primary = TRY(parse_copy(ByteView(headers).first(HEADER_SIZE), Copy::Primary));
    Bytes secondary = TRY(build_copy(Copy::Secondary, primary.seqid, primary.label, primary.uuid, primary.json));
    TRY(dev.write_at(SECONDARY_OFFSET, secondary));
    TRY(dev.flush());
    return verify_written(dev, volume, "repairing the secondary header");
}

}  // namespace cvm::storage::luks2
