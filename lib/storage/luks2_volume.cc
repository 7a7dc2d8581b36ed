#include "storage/luks2_volume.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "storage/luks2_header.h"
#include "storage/luks2_io.h"
#include "storage/luks2_keyslot.h"
#include "storage/luks2_metadata.h"
#include "storage/luks2_token.h"
#include "storage/xts.h"

namespace cvm::storage::luks2 {
namespace {

static_assert(HEADERS_SIZE == 2 * HEADER_SIZE && KEYSLOTS_AREA_OFFSET == HEADERS_SIZE);

Result<void> check_options(const BlockDevice& dev, const FormatOptions& o, bool recovery)
{
    if (o.sector_size != 512 && o.sector_size != 4096)
        return Error::make(Errc::Config, "luks2: sector size %u, expected 512 or 4096", o.sector_size);
    if (o.pbkdf2_iterations < PBKDF2_MIN_ITERATIONS || o.pbkdf2_iterations > PBKDF2_MAX_ITERATIONS)
        return Error::make(Errc::Config, "luks2: %u PBKDF2 iterations, expected %u..%u", o.pbkdf2_iterations,
                           PBKDF2_MIN_ITERATIONS, PBKDF2_MAX_ITERATIONS);
    if (o.label.size() >= LABEL_SIZE ||
        !std::all_of(o.label.begin(), o.label.end(), [](char c) { return c >= 0x20 && c < 0x7f; }))
        return Error::make(Errc::Config, "luks2: label must be printable ASCII of at most %zu bytes", LABEL_SIZE - 1);
    // One area for keyslot 0; with a recovery keyslot, its area and a free one for re-enrolment.
    const uint64_t MIN_OFFSET = KEYSLOTS_AREA_OFFSET + (recovery ? 3 : 1) * AF_AREA_MIN_SIZE;
    bool uuid_ok = o.uuid.size() == 36;
    for (size_t i = 0; uuid_ok && i < o.uuid.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        uuid_ok =
            dash ? o.uuid[i] == '-' : (o.uuid[i] >= '0' && o.uuid[i] <= '9') || (o.uuid[i] >= 'a' && o.uuid[i] <= 'f');
    }
    if (!o.uuid.empty() && !uuid_ok)
        return Error::make(Errc::Config, "luks2: uuid \"%s\", expected the canonical lower-case form",
                           shown(o.uuid).c_str());
    if (o.segment_offset % AREA_ALIGNMENT != 0 || o.segment_offset < MIN_OFFSET)
        return Error::make(Errc::Config, "luks2: segment offset %" PRIu64 ", expected a multiple of 4096 >= %" PRIu64,
                           o.segment_offset, MIN_OFFSET);
    if (dev.size() <= o.segment_offset || (dev.size() - o.segment_offset) % o.sector_size != 0)
        return Error::make(Errc::Config, "luks2: %s (%" PRIu64 " bytes) leaves no whole %u-byte sectors after %" PRIu64,
                           dev.name().c_str(), dev.size(), o.sector_size, o.segment_offset);
    return {};
}

Result<SecretBytes> open_area(BlockDevice& dev, uint64_t offset, uint64_t size, const Pbkdf2Params& kdf,
                              ByteView passphrase, unsigned keyslot)
{
    if (size < AF_MATERIAL_SIZE)
        return Error::make(Errc::Format, "luks2: keyslot %u area is smaller than its key material", keyslot);
    SecretBytes material(AF_MATERIAL_SIZE);
    TRY(dev.read_at(offset, material.expose()));
    SecretBytes area_key = TRY(pbkdf2_sha256(passphrase, kdf.salt, kdf.iterations, AF_KEY_SIZE));
    XtsCipher cipher = TRY(XtsCipher::create(area_key.expose()));
    TRY(cipher.decrypt(material.expose(), KEYSLOT_SECTOR_SIZE, 0));
    return af_merge(material.expose());
}

// Both copies of `v` (its hmac already set), secondary first; each binary header after its JSON
// area, the primary's binary header last of all (BLANK's commit point).
Result<void> write_copies_for_format(BlockDevice& dev, const Volume& v)
{
    std::string json = write_metadata(v);
    Bytes secondary = TRY(build_copy(Copy::Secondary, v.seqid, v.label, v.uuid, json));
    Bytes primary = TRY(build_copy(Copy::Primary, v.seqid, v.label, v.uuid, json));
    for (auto [bytes, offset] : {std::pair<const Bytes*, uint64_t>{&secondary, SECONDARY_OFFSET},
                                 std::pair<const Bytes*, uint64_t>{&primary, PRIMARY_OFFSET}}) {
        TRY(dev.write_at(offset + BINARY_HEADER_SIZE, ByteView(*bytes).subspan(BINARY_HEADER_SIZE)));
        TRY(dev.flush());
        TRY(dev.write_at(offset, ByteView(*bytes).first(BINARY_HEADER_SIZE)));
        TRY(dev.flush());
    }
    return {};
}

// The Volume one validated copy describes, its JSON text in the canonical form; a header without a
// token in any text that means the same (cryptsetup's json-c, an earlier cvminit: ADOPTION).
Result<Volume> read_volume(const HeaderCopy& copy, uint64_t device_size)
{
    Volume v = TRY(parse_metadata(copy.json, device_size));
    v.seqid = copy.seqid;
    v.uuid = copy.uuid;
    v.label = copy.label;
    std::string canonical = write_metadata(v);
    if (!v.adopt && canonical != copy.json) {
        auto diff = std::mismatch(canonical.begin(), canonical.end(), copy.json.begin(), copy.json.end());
        return Error::make(Errc::Format,
                           "luks2 header: JSON area differs at byte %zu from the canonical form cvminit writes "
                           "(edited by someone else?)",
                           static_cast<size_t>(diff.first - canonical.begin()));
    }
    return v;
}

// The primary binary header is zero: Blank only when the secondary is blank too, or is the
// secondary format() writes before its commit point (BLANK in luks2_volume.h).
Result<Inspection> judge_blank(ByteView secondary, uint64_t device_size)
{
    if (all_zero(secondary.first(BINARY_HEADER_SIZE)))
        return Inspection{HeaderState::Blank, std::nullopt, false};
    auto copy = parse_copy(secondary, Copy::Secondary);
    auto v = copy.ok() ? read_volume(copy.value(), device_size) : Result<Volume>(copy.error());
    if (!v.ok())
        return Error::make(Errc::Format,
                           "luks2 header: the primary binary header is zero but the secondary copy is not blank "
                           "and not valid (%s); refusing to format over it",
                           std::string(v.error().message()).c_str());
    if (v->seqid != 1 || !v->formatting)
        return Error::make(Errc::Format,
                           "luks2 header: the primary binary header is zero but the secondary copy holds a volume "
                           "(seqid %" PRIu64 ", state %s, generation %" PRIu64
                           "%s), expected blank or an interrupted format (seqid 1, state formatting): refusing to "
                           "format over it (zeroed by the host?)",
                           v->seqid, v->formatting ? "formatting" : "ready", v->generation,
                           v->adopt ? ", no cvminit token" : "");
    return Inspection{HeaderState::Blank, std::nullopt, false};
}

}  // namespace

std::string random_uuid()
{
    std::array<uint8_t, 16> b;
    fill_random(b);
    b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // RFC 9562 version 4
    b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10
    std::string hex = to_hex(b);
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
           hex.substr(20);
}

Result<Inspection> parse_headers(ByteView headers, uint64_t device_size)
{
    if (headers.size() != HEADERS_SIZE)
        return Error::make(Errc::Format, "luks2 header: %zu header bytes, expected %zu", headers.size(), HEADERS_SIZE);
    if (all_zero(headers.first(BINARY_HEADER_SIZE)))
        return judge_blank(headers.subspan(HEADER_SIZE), device_size);
    HeaderCopy primary = TRY(parse_copy(headers.first(HEADER_SIZE), Copy::Primary));
    HeaderCopy secondary = TRY(parse_copy(headers.subspan(HEADER_SIZE), Copy::Secondary));
    if (primary.uuid != secondary.uuid)
        return Error::make(Errc::Format, "luks2 header: copies differ in uuid (primary %s, secondary %s)",
                           primary.uuid.c_str(), secondary.uuid.c_str());
    if (primary.label != secondary.label)
        return Error::make(Errc::Format, "luks2 header: copies differ in label (primary \"%s\", secondary \"%s\")",
                           shown(primary.label).c_str(), shown(secondary.label).c_str());

    Volume newest = TRY_PREFIX(read_volume(primary, device_size), "primary copy");
    if (primary.seqid == secondary.seqid) {
        if (primary.json != secondary.json) {
            auto diff =
                std::mismatch(primary.json.begin(), primary.json.end(), secondary.json.begin(), secondary.json.end());
            return Error::make(Errc::Format, "luks2 header: copies differ in JSON area at byte %zu, expected identical",
                               static_cast<size_t>(diff.first - primary.json.begin()));
        }
        return Inspection{HeaderState::Valid, std::move(newest), false};
    }
    // The crash rule (luks2_volume.h): only an interrupted rewrite of ours may leave the copies
    // apart, by one seqid step and only in the token and keyslot 0; the primary always has our
    // token, in state ready when the secondary has none (an interrupted adoption).
    Volume older = TRY_PREFIX(read_volume(secondary, device_size), "secondary copy");
    const bool token_kept = !newest.adopt && !(older.adopt && newest.formatting);
    if (token_kept && secondary.seqid != UINT64_MAX && primary.seqid == secondary.seqid + 1) {
        Volume expected = std::move(older);
        expected.seqid = newest.seqid;
        expected.adopt = newest.adopt;
        expected.formatting = newest.formatting;
        expected.generation = newest.generation;
        expected.derivation = newest.derivation;
        expected.hmac = newest.hmac;
        expected.keyslot_area_offset = newest.keyslot_area_offset;
        expected.keyslot_area_size = newest.keyslot_area_size;
        expected.keyslot_priority = newest.keyslot_priority;
        expected.keyslot_kdf = newest.keyslot_kdf;
        if (expected == newest)
            return Inspection{HeaderState::Valid, std::move(newest), true};
    }
    return Error::make(Errc::Format,
                       "luks2 header: copies differ in seqid (primary %" PRIu64 ", secondary %" PRIu64
                       "%s), expected equal or an interrupted rewrite of the token or keyslot 0",
                       primary.seqid, secondary.seqid, newest.adopt ? ", the primary without a cvminit token" : "");
}

Result<Inspection> inspect(BlockDevice& dev)
{
    Bytes headers = TRY(read_headers(dev));
    return TRY_PREFIX(parse_headers(headers, dev.size()), "%s", dev.name().c_str());
}

Result<SecretBytes> unlock(BlockDevice& dev, const Volume& volume, ByteView passphrase, unsigned keyslot)
{
    TRY(check_passphrase(passphrase));
    if (keyslot > 1 || (keyslot == 1 && !volume.recovery_keyslot))
        return Error::make(Errc::Config, "luks2: %s has no keyslot %u", dev.name().c_str(), keyslot);
    SecretBytes key = keyslot == 0 ? TRY(open_area(dev, volume.keyslot_area_offset, volume.keyslot_area_size,
                                                   volume.keyslot_kdf, passphrase, 0))
                                   : TRY(open_area(dev, volume.recovery_area_offset, volume.recovery_area_size,
                                                   volume.recovery_kdf, passphrase, 1));
    SecretBytes check =
        TRY(pbkdf2_sha256(key.expose(), volume.digest_kdf.salt, volume.digest_kdf.iterations, DIGEST_SIZE));
    if (!constant_time_equal(check.expose(), volume.digest))
        return Error::make(Errc::Crypto, "luks2: the passphrase does not open keyslot %u of %s (Key incorrect?)",
                           keyslot, dev.name().c_str());
    if (!volume.adopt)  // ADOPTION: no HMAC yet; the rewrite that adopts it writes the first
        TRY(authenticate(dev, volume, key));
    return key;
}

Result<void> authenticate(BlockDevice& dev, const Volume& volume, const SecretBytes& volume_key)
{
    if (volume.adopt)
        return Error::make(Errc::Crypto,
                           "LUKS2 header authentication failed: %s's header has no cvminit token, so nothing "
                           "to check its HMAC against (adopt it first)",
                           dev.name().c_str());
    std::array<uint8_t, 32> mac = header_hmac(volume, volume_key.expose());
    if (!constant_time_equal(mac, volume.hmac))
        return Error::make(Errc::Crypto,
                           "LUKS2 header authentication failed: the HMAC of %s's header (seqid %" PRIu64
                           ", token generation %" PRIu64 ", state %s) is not the one its volume key gives "
                           "(edited by the host?)",
                           dev.name().c_str(), volume.seqid, volume.generation,
                           volume.formatting ? "formatting" : "ready");
    return {};
}

Result<std::pair<Volume, SecretBytes>> format(BlockDevice& dev, ByteView passphrase, const FormatOptions& options,
                                              ByteView recovery_passphrase)
{
    const bool recovery = !recovery_passphrase.empty();
    TRY(check_passphrase(passphrase));
    if (recovery)
        TRY_PREFIX(check_passphrase(recovery_passphrase), "recovery");
    TRY(check_options(dev, options, recovery));
    TRY(check_derivation(options.derivation));
    Bytes headers = TRY(read_headers(dev));
    auto judged = parse_headers(headers, dev.size());
    if (!judged.ok() || judged->state != HeaderState::Blank)
        return Error::make(Errc::Config, "luks2: refusing to format %s: its header is not blank", dev.name().c_str());
    Volume v;
    v.seqid = 1;
    v.uuid = options.uuid.empty() ? random_uuid() : options.uuid;
    v.label = options.label;
    v.segment_offset = options.segment_offset;
    v.segment_size = dev.size() - options.segment_offset;
    v.segment_size_dynamic = true;
    v.sector_size = options.sector_size;
    v.formatting = true;
    v.generation = options.generation;
    v.derivation = options.derivation;
    v.keyslots_size = options.segment_offset - KEYSLOTS_AREA_OFFSET;
    v.keyslot_area_offset = KEYSLOTS_AREA_OFFSET;
    v.keyslot_area_size = AF_AREA_MIN_SIZE;
    v.keyslot_kdf.iterations = v.digest_kdf.iterations = options.pbkdf2_iterations;
    fill_random(v.digest_kdf.salt);

    SecretBytes key(VOLUME_KEY_SIZE);
    do {
        fill_random(key.expose());  // XTS needs two different halves; a repeat is ~2^-256
    } while (constant_time_equal(key.expose().first(32), key.expose().last(32)));
    SecretBytes digest = TRY(pbkdf2_sha256(key.expose(), v.digest_kdf.salt, v.digest_kdf.iterations, DIGEST_SIZE));
    memcpy(v.digest.data(), digest.expose().data(), DIGEST_SIZE);
    SecretBytes material = TRY(make_keyslot(key.expose(), passphrase, v.keyslot_kdf));
    SecretBytes recovery_material;
    if (recovery) {
        v.recovery_keyslot = true;
        v.recovery_area_offset = v.keyslot_area_offset + v.keyslot_area_size;
        v.recovery_area_size = AF_AREA_MIN_SIZE;
        v.recovery_kdf.iterations = options.pbkdf2_iterations;
        recovery_material = TRY(make_keyslot(key.expose(), recovery_passphrase, v.recovery_kdf));
    }
    v.hmac = header_hmac(v, key.expose());

    // Zeros over the whole keyslots area (no old keyslot survives a format), then the keyslots.
    TRY(write_zeros(dev, KEYSLOTS_AREA_OFFSET, v.keyslots_size));
    TRY(dev.write_at(v.keyslot_area_offset, material.expose()));
    if (recovery)
        TRY(dev.write_at(v.recovery_area_offset, recovery_material.expose()));
    TRY(dev.flush());
    TRY(write_copies_for_format(dev, v));
    TRY(verify_written(dev, v, "format"));
    return std::pair<Volume, SecretBytes>{std::move(v), std::move(key)};
}

}  // namespace cvm::storage::luks2
