#include "storage/luks2_volume.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "storage/luks2_header.h"
#include "storage/luks2_keyslot.h"
#include "storage/luks2_metadata.h"
#include "storage/xts.h"

namespace cvm::storage::luks2 {
namespace {

static_assert(HEADERS_SIZE == 2 * HEADER_SIZE && KEYSLOTS_AREA_OFFSET == HEADERS_SIZE);
constexpr size_t DIGEST_SIZE = 32;
constexpr size_t ZERO_CHUNK = 1 << 20;

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

// The read-back after a write: the device must now hold exactly `expected`.
Result<void> verify_written(BlockDevice& dev, const Volume& expected, const char* action)
{
    Inspection now = TRY_PREFIX(inspect(dev), "luks2: after %s", action);
    if (now.state != HeaderState::Valid || now.repair_secondary || *now.volume != expected)
        return Error::make(Errc::Io, "luks2: %s does not read back the header %s wrote", dev.name().c_str(), action);
    return {};
}

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

Result<void> check_options(const BlockDevice& dev, const FormatOptions& o)
{
    if (o.sector_size != 512 && o.sector_size != 4096)
        return Error::make(Errc::Config, "luks2: sector size %u, expected 512 or 4096", o.sector_size);
    if (o.pbkdf2_iterations < PBKDF2_MIN_ITERATIONS || o.pbkdf2_iterations > PBKDF2_MAX_ITERATIONS)
        return Error::make(Errc::Config, "luks2: %u PBKDF2 iterations, expected %u..%u", o.pbkdf2_iterations,
                           PBKDF2_MIN_ITERATIONS, PBKDF2_MAX_ITERATIONS);
    if (o.label.size() >= LABEL_SIZE ||
        !std::all_of(o.label.begin(), o.label.end(), [](char c) { return c >= 0x20 && c < 0x7f; }))
        return Error::make(Errc::Config, "luks2: label must be printable ASCII of at most %zu bytes", LABEL_SIZE - 1);
    constexpr uint64_t MIN_OFFSET = KEYSLOTS_AREA_OFFSET + AF_AREA_MIN_SIZE;
    if (o.segment_offset % AREA_ALIGNMENT != 0 || o.segment_offset < MIN_OFFSET)
        return Error::make(Errc::Config, "luks2: segment offset %" PRIu64 ", expected a multiple of 4096 >= %" PRIu64,
                           o.segment_offset, MIN_OFFSET);
    if (dev.size() <= o.segment_offset || (dev.size() - o.segment_offset) % o.sector_size != 0)
        return Error::make(Errc::Config, "luks2: %s (%" PRIu64 " bytes) leaves no whole %u-byte sectors after %" PRIu64,
                           dev.name().c_str(), dev.size(), o.sector_size, o.segment_offset);
    return {};
}

// Zeros over the whole keyslots area (no old keyslot survives a format), then keyslot 0.
Result<void> write_keyslots_area(BlockDevice& dev, const Volume& v, ByteView keyslot)
{
    Bytes zeros(std::min<uint64_t>(ZERO_CHUNK, v.keyslots_size));
    for (uint64_t at = KEYSLOTS_AREA_OFFSET, end = KEYSLOTS_AREA_OFFSET + v.keyslots_size; at < end;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), end - at));
        TRY(dev.write_at(at, ByteView(zeros).first(n)));
        at += n;
    }
    TRY(dev.write_at(v.keyslot_area_offset, keyslot));
    return dev.flush();
}

}  // namespace

Result<Inspection> parse_headers(ByteView headers, uint64_t device_size)
{
    if (headers.size() != HEADERS_SIZE)
        return Error::make(Errc::Format, "luks2 header: %zu header bytes, expected %zu", headers.size(), HEADERS_SIZE);
    if (all_zero(headers.first(BINARY_HEADER_SIZE)))
        return Inspection{HeaderState::Blank, std::nullopt, false};
    HeaderCopy primary = TRY(parse_copy(headers.first(HEADER_SIZE), Copy::Primary));
    HeaderCopy secondary = TRY(parse_copy(headers.subspan(HEADER_SIZE), Copy::Secondary));
    if (primary.uuid != secondary.uuid)
        return Error::make(Errc::Format, "luks2 header: copies differ in uuid (primary %s, secondary %s)",
                           primary.uuid.c_str(), secondary.uuid.c_str());
    if (primary.label != secondary.label)
        return Error::make(Errc::Format, "luks2 header: copies differ in label (primary \"%s\", secondary \"%s\")",
                           shown(primary.label).c_str(), shown(secondary.label).c_str());

    Volume newest = TRY_PREFIX(parse_metadata(primary.json, device_size), "primary copy");
    newest.seqid = primary.seqid;
    newest.uuid = primary.uuid;
    newest.label = primary.label;
    if (primary.seqid == secondary.seqid) {
        if (primary.json != secondary.json) {
            auto diff =
                std::mismatch(primary.json.begin(), primary.json.end(), secondary.json.begin(), secondary.json.end());
            return Error::make(Errc::Format, "luks2 header: copies differ in JSON area at byte %zu, expected identical",
                               static_cast<size_t>(diff.first - primary.json.begin()));
        }
        return Inspection{HeaderState::Valid, std::move(newest), false};
    }
    // The crash rule (luks2_volume.h): only an interrupted finish_formatting() may leave the
    // copies apart, and only by the token and one seqid step.
    Volume older = TRY_PREFIX(parse_metadata(secondary.json, device_size), "secondary copy");
    if (secondary.seqid != UINT64_MAX && primary.seqid == secondary.seqid + 1 && !newest.formatting) {
        if (older.formatting) {
            Volume expected = std::move(older);
            expected.seqid = newest.seqid;
            expected.uuid = newest.uuid;
            expected.label = newest.label;
            expected.formatting = false;
            if (expected == newest)
                return Inspection{HeaderState::Valid, std::move(newest), true};
        }
    }
    return Error::make(Errc::Format,
                       "luks2 header: copies differ in seqid (primary %" PRIu64 ", secondary %" PRIu64
                       "), expected equal or an interrupted finish of formatting",
                       primary.seqid, secondary.seqid);
}

Result<Inspection> inspect(BlockDevice& dev)
{
    Bytes headers = TRY(read_headers(dev));
    return TRY_PREFIX(parse_headers(headers, dev.size()), "%s", dev.name().c_str());
}

Result<SecretBytes> unlock(BlockDevice& dev, const Volume& volume, ByteView passphrase)
{
    TRY(check_passphrase(passphrase));
    if (volume.keyslot_area_size < AF_MATERIAL_SIZE)
        return Error::make(Errc::Format, "luks2: keyslot 0 area is smaller than its key material");
    SecretBytes material(AF_MATERIAL_SIZE);
    TRY(dev.read_at(volume.keyslot_area_offset, material.expose()));
    {
        SecretBytes area_key =
            TRY(pbkdf2_sha256(passphrase, volume.keyslot_kdf.salt, volume.keyslot_kdf.iterations, AF_KEY_SIZE));
        XtsCipher cipher = TRY(XtsCipher::create(area_key.expose()));
        TRY(cipher.decrypt(material.expose(), KEYSLOT_SECTOR_SIZE, 0));
    }
    SecretBytes key = af_merge(material.expose());
    SecretBytes check =
        TRY(pbkdf2_sha256(key.expose(), volume.digest_kdf.salt, volume.digest_kdf.iterations, DIGEST_SIZE));
    if (!constant_time_equal(check.expose(), volume.digest))
        return Error::make(Errc::Crypto, "luks2: the passphrase does not open keyslot 0 of %s (Key incorrect?)",
                           dev.name().c_str());
    return key;
}

Result<std::pair<Volume, SecretBytes>> format(BlockDevice& dev, ByteView passphrase, const FormatOptions& options)
{
    TRY(check_passphrase(passphrase));
    TRY(check_options(dev, options));
    Bytes headers = TRY(read_headers(dev));
    if (!all_zero(ByteView(headers).first(BINARY_HEADER_SIZE)))
        return Error::make(Errc::Config, "luks2: refusing to format %s: its primary header is not blank",
                           dev.name().c_str());
    Volume v;
    v.seqid = 1;
    v.uuid = random_uuid();
    v.label = options.label;
    v.segment_offset = options.segment_offset;
    v.segment_size = dev.size() - options.segment_offset;
    v.segment_size_dynamic = true;
    v.sector_size = options.sector_size;
    v.formatting = true;
    v.keyslots_size = options.segment_offset - KEYSLOTS_AREA_OFFSET;
    v.keyslot_area_offset = KEYSLOTS_AREA_OFFSET;
    v.keyslot_area_size = AF_AREA_MIN_SIZE;
    v.keyslot_kdf.iterations = v.digest_kdf.iterations = options.pbkdf2_iterations;
    fill_random(v.keyslot_kdf.salt);
    fill_random(v.digest_kdf.salt);

    SecretBytes key(VOLUME_KEY_SIZE);
    do {
        fill_random(key.expose());  // XTS needs two different halves; a repeat is ~2^-256
    } while (constant_time_equal(key.expose().first(32), key.expose().last(32)));
    SecretBytes digest = TRY(pbkdf2_sha256(key.expose(), v.digest_kdf.salt, v.digest_kdf.iterations, DIGEST_SIZE));
    memcpy(v.digest.data(), digest.expose().data(), DIGEST_SIZE);
    SecretBytes material = af_split(key.expose());
    {
        SecretBytes area_key =
            TRY(pbkdf2_sha256(passphrase, v.keyslot_kdf.salt, v.keyslot_kdf.iterations, AF_KEY_SIZE));
        XtsCipher cipher = TRY(XtsCipher::create(area_key.expose()));
        TRY(cipher.encrypt(material.expose(), KEYSLOT_SECTOR_SIZE, 0));
    }
    std::string json = write_metadata(v);
    Bytes secondary = TRY(build_copy(Copy::Secondary, v.seqid, v.label, v.uuid, json));
    Bytes primary = TRY(build_copy(Copy::Primary, v.seqid, v.label, v.uuid, json));

    TRY(write_keyslots_area(dev, v, material.expose()));
    TRY(dev.write_at(SECONDARY_OFFSET, secondary));
    TRY(dev.flush());
    // The primary in two steps: its JSON area, then the binary header, whose non-zero bytes all
    // lie in one 512-byte sector. Until that sector is written the device inspects as Blank.
    TRY(dev.write_at(PRIMARY_OFFSET + BINARY_HEADER_SIZE, ByteView(primary).subspan(BINARY_HEADER_SIZE)));
    TRY(dev.flush());
    TRY(dev.write_at(PRIMARY_OFFSET, ByteView(primary).first(BINARY_HEADER_SIZE)));
    TRY(dev.flush());
    TRY(verify_written(dev, v, "format"));
    return std::pair<Volume, SecretBytes>{std::move(v), std::move(key)};
}

Result<Volume> finish_formatting(BlockDevice& dev, const Volume& volume)
{
    if (!volume.formatting)
        return Error::make(Errc::Config, "luks2: %s carries no formatting token to remove", dev.name().c_str());
    if (volume.seqid == UINT64_MAX)
        return Error::make(Errc::Format, "luks2 header: seqid is %llu, the largest there is: no next header",
                           static_cast<unsigned long long>(volume.seqid));
    Volume next = volume;
    next.seqid = volume.seqid + 1;
    next.formatting = false;
    // The device must still hold `volume` (or the interrupted state after it), so that a write
    // never starts from a header that changed after it was validated.
    Inspection now = TRY_PREFIX(inspect(dev), "luks2: before finishing formatting");
    if (now.state == HeaderState::Valid && now.repair_secondary && *now.volume == next) {
        TRY(repair_secondary(dev, next));
        return next;
    }
    if (now.state != HeaderState::Valid || now.repair_secondary || *now.volume != volume)
        return Error::make(Errc::Config,
                           "luks2: the header of %s is not the one validated for finishing formatting; "
                           "refusing",
                           dev.name().c_str());
    std::string json = write_metadata(next);
    Bytes primary = TRY(build_copy(Copy::Primary, next.seqid, next.label, next.uuid, json));
    Bytes secondary = TRY(build_copy(Copy::Secondary, next.seqid, next.label, next.uuid, json));
    TRY(dev.write_at(PRIMARY_OFFSET, primary));
    TRY(dev.flush());
    TRY(dev.write_at(SECONDARY_OFFSET, secondary));
    TRY(dev.flush());
    TRY(verify_written(dev, next, "finishing formatting"));
    return next;
}

Result<void> repair_secondary(BlockDevice& dev, const Volume& volume)
{
    // One read, judged and then copied from: the bytes written are the bytes validated.
    Bytes headers = TRY(read_headers(dev));
    Inspection now = TRY_PREFIX(parse_headers(headers, dev.size()), "luks2: before repairing %s", dev.name().c_str());
    if (now.state != HeaderState::Valid || !now.repair_secondary || *now.volume != volume)
        return Error::make(Errc::Config, "luks2: the header of %s is not the one validated for repairing; refusing",
                           dev.name().c_str());
    HeaderCopy primary = TRY(parse_copy(ByteView(headers).first(HEADER_SIZE), Copy::Primary));
    Bytes secondary = TRY(build_copy(Copy::Secondary, primary.seqid, primary.label, primary.uuid, primary.json));
    TRY(dev.write_at(SECONDARY_OFFSET, secondary));
    TRY(dev.flush());
    return verify_written(dev, volume, "repairing the secondary header");
}

}  // namespace cvm::storage::luks2
