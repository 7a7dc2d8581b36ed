#include "storage/luks2_metadata.h"

#include <yyjson.h>

#include <cinttypes>
#include <memory>

#include "base/base64.h"
#include "storage/luks2_header.h"
#include "storage/luks2_json.h"
#include "storage/luks2_keyslot.h"
#include "storage/luks2_token.h"

namespace cvm::storage::luks2 {
namespace {

constexpr std::string_view CIPHER = "aes-xts-plain64";
constexpr std::string_view HASH = "sha256";
constexpr uint64_t ALIGNMENT = 4096;

struct DocFree {
    void operator()(yyjson_doc* doc) const { yyjson_doc_free(doc); }
};

// config first: a requirement (an interrupted reencryption, say) explains whatever else is odd.
Result<uint64_t> parse_config(yyjson_val* config)
{
    if (yyjson_val* req = yyjson_obj_get(config, "requirements")) {
        if (yyjson_val* first = yyjson_arr_get_first(yyjson_obj_get(req, "mandatory")))
            return Error::make(Errc::Unsupported,
                               "luks2 header: config.requirements.mandatory holds %s, expected no "
                               "requirements",
                               describe(first).c_str());
        return unexpected(Errc::Unsupported, "config.requirements", req, "no requirements");
    }
    if (yyjson_val* flags = yyjson_obj_get(config, "flags")) {
        if (!yyjson_is_arr(flags))
            return unexpected(Errc::Format, "config.flags", flags, "an array");
        if (yyjson_val* first = yyjson_arr_get_first(flags))
            return Error::make(Errc::Unsupported, "luks2 header: config.flags holds %s, expected no flags",
                               describe(first).c_str());
    }
    TRY(check_members(config, "config", {"json_size", "keyslots_size"}, {"flags"}));
    yyjson_val* json_size = TRY(member(config, "config", "json_size"));
    if (!yyjson_equals_str(json_size, "12288"))
        return unexpected(Errc::Unsupported, "config.json_size", json_size, "\"12288\"");
    return decimal_at(config, "config", "keyslots_size");
}

Result<Pbkdf2Params> parse_pbkdf2(yyjson_val* object, std::string_view path)
{
    Pbkdf2Params out;
    out.iterations =
        static_cast<uint32_t>(TRY(uint_at(object, path, "iterations", PBKDF2_MIN_ITERATIONS, PBKDF2_MAX_ITERATIONS)));
    out.salt = TRY(base64_32_at(object, path, "salt"));
    return out;
}

struct Keyslot {
    uint64_t area_offset{}, area_size{};
    std::optional<uint32_t> priority;
    Pbkdf2Params kdf;
};

Result<Keyslot> parse_keyslot(yyjson_val* ks, const std::string& p, bool may_have_priority)
{
    Keyslot out;
    TRY(expect_string(ks, p, "type", "luks2", Errc::Unsupported));
    TRY(check_members(ks, p, {"type", "key_size", "af", "area", "kdf"},
                      may_have_priority ? std::initializer_list<std::string_view>{"priority"}
                                        : std::initializer_list<std::string_view>{}));
    TRY(uint_in(ks, p, "key_size", {VOLUME_KEY_SIZE}, Errc::Unsupported));
    if (yyjson_obj_get(ks, "priority"))
        out.priority = static_cast<uint32_t>(TRY(uint_at(ks, p, "priority", 0, 2)));

    const std::string af_path = p + ".af", area_path = p + ".area", kdf_path = p + ".kdf";
    yyjson_val* af = TRY(member(ks, p, "af"));
    TRY(expect_string(af, af_path, "type", "luks1", Errc::Unsupported));
    TRY(check_members(af, af_path, {"type", "stripes", "hash"}));
    TRY(uint_in(af, af_path, "stripes", {AF_STRIPES}, Errc::Unsupported));
    TRY(expect_string(af, af_path, "hash", HASH, Errc::Unsupported));

    yyjson_val* area = TRY(member(ks, p, "area"));
    TRY(expect_string(area, area_path, "type", "raw", Errc::Unsupported));
    TRY(check_members(area, area_path, {"type", "offset", "size", "encryption", "key_size"}));
    TRY(expect_string(area, area_path, "encryption", CIPHER, Errc::Unsupported));
    TRY(uint_in(area, area_path, "key_size", {AF_KEY_SIZE}, Errc::Unsupported));
    out.area_offset = TRY(decimal_at(area, area_path, "offset"));
    out.area_size = TRY(decimal_at(area, area_path, "size"));

    yyjson_val* kdf = TRY(member(ks, p, "kdf"));
    TRY(expect_string(kdf, kdf_path, "type", "pbkdf2", Errc::Unsupported));
    TRY(check_members(kdf, kdf_path, {"type", "hash", "iterations", "salt"}));
    TRY(expect_string(kdf, kdf_path, "hash", HASH, Errc::Unsupported));
    out.kdf = TRY(parse_pbkdf2(kdf, kdf_path));
    return out;
}

// Keyslot "0", or "0" and "1": the profile's only two shapes.
Result<void> parse_keyslots(yyjson_val* keyslots, Volume& v)
{
    if (!yyjson_is_obj(keyslots))
        return unexpected(Errc::Format, "keyslots", keyslots, "an object");
    yyjson_obj_iter it = yyjson_obj_iter_with(keyslots);
    while (yyjson_val* key = yyjson_obj_iter_next(&it)) {
        std::string_view id(yyjson_get_str(key), yyjson_get_len(key));
        if (id != "0" && id != "1")
            return Error::make(Errc::Unsupported, "luks2 header: keyslots holds \"%s\", expected only \"0\" and \"1\"",
                               shown(id).c_str());
    }
    TRY(check_members(keyslots, "keyslots", {"0"}, {"1"}));
    Keyslot k0 = TRY(parse_keyslot(yyjson_obj_get(keyslots, "0"), "keyslots.0", true));
    v.keyslot_area_offset = k0.area_offset;
    v.keyslot_area_size = k0.area_size;
    v.keyslot_priority = k0.priority;
    v.keyslot_kdf = k0.kdf;
    if (yyjson_val* ks1 = yyjson_obj_get(keyslots, "1")) {
        Keyslot k1 = TRY(parse_keyslot(ks1, "keyslots.1", false));
        v.recovery_keyslot = true;
        v.recovery_area_offset = k1.area_offset;
        v.recovery_area_size = k1.area_size;
        v.recovery_kdf = k1.kdf;
    }
    return {};
}

Result<void> parse_segment(yyjson_val* segments, Volume& v)
{
    yyjson_val* seg = TRY(only_entry_zero(segments, "segments"));
    TRY(expect_string(seg, "segments.0", "type", "crypt", Errc::Unsupported));
    TRY(check_members(seg, "segments.0", {"type", "offset", "size", "iv_tweak", "encryption", "sector_size"}));
    TRY(expect_string(seg, "segments.0", "encryption", CIPHER, Errc::Unsupported));
    TRY(expect_string(seg, "segments.0", "iv_tweak", "0", Errc::Unsupported));
    v.sector_size =
        static_cast<uint32_t>(TRY(uint_in(seg, "segments.0", "sector_size", {512, 4096}, Errc::Unsupported)));
    v.segment_offset = TRY(decimal_at(seg, "segments.0", "offset"));
    yyjson_val* size = TRY(member(seg, "segments.0", "size"));
    v.segment_size_dynamic = yyjson_equals_str(size, "dynamic");
    if (!v.segment_size_dynamic)
        v.segment_size = TRY(decimal_at(seg, "segments.0", "size"));
    return {};
}

Result<void> parse_digest(yyjson_val* digests, Volume& v)
{
    yyjson_val* dg = TRY(only_entry_zero(digests, "digests"));
    TRY(expect_string(dg, "digests.0", "type", "pbkdf2", Errc::Unsupported));
    TRY(check_members(dg, "digests.0", {"type", "keyslots", "segments", "hash", "iterations", "salt", "digest"}));
    yyjson_val* keyslots = TRY(member(dg, "digests.0", "keyslots"));
    bool both = yyjson_arr_size(keyslots) == 2 && yyjson_equals_str(yyjson_arr_get(keyslots, 1), "1");
    if (!yyjson_is_arr(keyslots) || !yyjson_equals_str(yyjson_arr_get_first(keyslots), "0") ||
        yyjson_arr_size(keyslots) != (v.recovery_keyslot ? 2 : 1) || (v.recovery_keyslot && !both))
        return unexpected(Errc::Format, "digests.0.keyslots", keyslots,
                          v.recovery_keyslot ? "[\"0\",\"1\"] (the keyslots there are)"
                                             : "[\"0\"] (the keyslot there is)");
    TRY(expect_zero_list(dg, "digests.0", "segments"));
    TRY(expect_string(dg, "digests.0", "hash", HASH, Errc::Unsupported));
    v.digest_kdf = TRY(parse_pbkdf2(dg, "digests.0"));
    v.digest = TRY(base64_32_at(dg, "digests.0", "digest"));
    return {};
}

Error layout(const char* field, uint64_t found, const char* expected, uint64_t bound)
{
    return Error::make(Errc::Format, "luks2 header: %s is %" PRIu64 ", expected %s%" PRIu64, field, found, expected,
                       bound);
}

// Keyslots area [32768, 32768 + keyslots_size) holds the keyslot area and ends at or before the
// segment, which lies in the device; everything 4096-aligned, all sums overflow-checked.
Result<void> check_layout(Volume& v, uint64_t device_size)
{
    if (v.keyslots_size % ALIGNMENT != 0 || v.keyslots_size < AF_AREA_MIN_SIZE)
        return layout("config.keyslots_size", v.keyslots_size, "a multiple of 4096 of at least ", AF_AREA_MIN_SIZE);
    if (v.keyslots_size > UINT64_MAX - KEYSLOTS_AREA_OFFSET)
        return layout("config.keyslots_size", v.keyslots_size, "at most ", UINT64_MAX - KEYSLOTS_AREA_OFFSET);
    const uint64_t keyslots_end = KEYSLOTS_AREA_OFFSET + v.keyslots_size;
    if (v.keyslot_area_offset % ALIGNMENT != 0 || v.keyslot_area_offset < KEYSLOTS_AREA_OFFSET)
        return layout("keyslots.0.area.offset", v.keyslot_area_offset, "a multiple of 4096 of at least ",
                      KEYSLOTS_AREA_OFFSET);
    if (v.keyslot_area_size % ALIGNMENT != 0 || v.keyslot_area_size < AF_AREA_MIN_SIZE)
        return layout("keyslots.0.area.size", v.keyslot_area_size, "a multiple of 4096 of at least ", AF_AREA_MIN_SIZE);
    if (v.keyslot_area_offset > keyslots_end || v.keyslot_area_size > keyslots_end - v.keyslot_area_offset)
        return layout("keyslots.0.area.size", v.keyslot_area_size, "an area ending by the keyslots area end at ",
                      keyslots_end);
    if (v.recovery_keyslot) {
        if (v.recovery_area_offset % ALIGNMENT != 0 || v.recovery_area_offset < KEYSLOTS_AREA_OFFSET)
            return layout("keyslots.1.area.offset", v.recovery_area_offset, "a multiple of 4096 of at least ",
                          KEYSLOTS_AREA_OFFSET);
        if (v.recovery_area_size % ALIGNMENT != 0 || v.recovery_area_size < AF_AREA_MIN_SIZE)
            return layout("keyslots.1.area.size", v.recovery_area_size, "a multiple of 4096 of at least ",
                          AF_AREA_MIN_SIZE);
        if (v.recovery_area_offset > keyslots_end || v.recovery_area_size > keyslots_end - v.recovery_area_offset)
            return layout("keyslots.1.area.size", v.recovery_area_size, "an area ending by the keyslots area end at ",
                          keyslots_end);
        // Both areas lie inside the keyslots area, so these sums do not overflow.
        if (v.recovery_area_offset < v.keyslot_area_offset + v.keyslot_area_size &&
            v.keyslot_area_offset < v.recovery_area_offset + v.recovery_area_size)
            return layout("keyslots.1.area.offset", v.recovery_area_offset,
                          "an area not overlapping keyslot 0's, which starts at ", v.keyslot_area_offset);
    }
    if (v.segment_offset % ALIGNMENT != 0 || v.segment_offset < keyslots_end)
        return layout("segments.0.offset", v.segment_offset, "a multiple of 4096 of at least ", keyslots_end);
    if (v.segment_offset >= device_size)
        return layout("segments.0.offset", v.segment_offset, "an offset inside the device of ", device_size);
    const uint64_t room = device_size - v.segment_offset;
    if (v.segment_size_dynamic) {
        v.segment_size = room;
        if (room % v.sector_size != 0)
            return Error::make(Errc::Format,
                               "luks2 header: segments.0.size is \"dynamic\" and leaves %" PRIu64
                               " bytes, expected whole %u-byte sectors",
                               room, v.sector_size);
    } else {
        if (v.segment_size == 0 || v.segment_size % v.sector_size != 0)
            return layout("segments.0.size", v.segment_size, "a non-zero multiple of ", v.sector_size);
        if (v.segment_size > room)
            return layout("segments.0.size", v.segment_size, "a size inside the device, at most ", room);
    }
    return {};
}

}  // namespace

Result<Volume> parse_metadata(std::string_view json, uint64_t device_size)
{
    yyjson_read_err err{};
    std::unique_ptr<yyjson_doc, DocFree> doc(
        yyjson_read_opts(const_cast<char*>(json.data()), json.size(), YYJSON_READ_NOFLAG, nullptr, &err));
    if (!doc)
        return Error::make(Errc::Format, "luks2 header: JSON area is not valid JSON at byte %zu: %s", err.pos, err.msg);
    yyjson_val* root = yyjson_doc_get_root(doc.get());
    TRY(check_members(root, "", {"keyslots", "tokens", "segments", "digests", "config"}));
    Volume v;
    v.keyslots_size = TRY(parse_config(yyjson_obj_get(root, "config")));
    TRY(parse_tokens(yyjson_obj_get(root, "tokens"), v));
    TRY(parse_keyslots(yyjson_obj_get(root, "keyslots"), v));
    TRY(parse_segment(yyjson_obj_get(root, "segments"), v));
    TRY(parse_digest(yyjson_obj_get(root, "digests"), v));
    TRY(check_layout(v, device_size));
    return v;
}

std::string write_metadata(const Volume& v, bool with_hmac)
{
    auto num = [](uint64_t n) { return "\"" + std::to_string(n) + "\""; };
    auto keyslot = [&](uint64_t offset, uint64_t size, const Pbkdf2Params& kdf, std::optional<uint32_t> priority) {
        std::string out = "{\"type\":\"luks2\",\"key_size\":64,"
                          "\"af\":{\"type\":\"luks1\",\"stripes\":4000,\"hash\":\"sha256\"},"
                          "\"area\":{\"type\":\"raw\",\"offset\":" +
                          num(offset) + ",\"size\":" + num(size) +
                          ",\"encryption\":\"aes-xts-plain64\",\"key_size\":64},"
                          "\"kdf\":{\"type\":\"pbkdf2\",\"hash\":\"sha256\",\"iterations\":" +
                          std::to_string(kdf.iterations) + ",\"salt\":\"" + base64_encode(kdf.salt) + "\"}";
        if (priority)
            out += ",\"priority\":" + std::to_string(*priority);
        return out + "}";
    };
    std::string out = "{\"keyslots\":{\"0\":" +
                      keyslot(v.keyslot_area_offset, v.keyslot_area_size, v.keyslot_kdf, v.keyslot_priority);
    if (v.recovery_keyslot)
        out += ",\"1\":" + keyslot(v.recovery_area_offset, v.recovery_area_size, v.recovery_kdf, std::nullopt);
    out += "},\"tokens\":" + write_tokens(v, with_hmac);
    out += ",\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":" + num(v.segment_offset) +
           ",\"size\":" + (v.segment_size_dynamic ? std::string("\"dynamic\"") : num(v.segment_size)) +
           ",\"iv_tweak\":\"0\",\"encryption\":\"aes-xts-plain64\",\"sector_size\":" + std::to_string(v.sector_size) +
           "}},\"digests\":{\"0\":{\"type\":\"pbkdf2\",\"keyslots\":" +
           (v.recovery_keyslot ? "[\"0\",\"1\"]" : "[\"0\"]") +
           ",\"segments\":[\"0\"],"
           "\"hash\":\"sha256\",\"iterations\":" +
           std::to_string(v.digest_kdf.iterations) + ",\"salt\":\"" + base64_encode(v.digest_kdf.salt) +
           "\",\"digest\":\"" + base64_encode(v.digest) +
           "\"}},\"config\":{\"json_size\":\"12288\",\"keyslots_size\":" + num(v.keyslots_size) + "}}";
    return out;
}

}  // namespace cvm::storage::luks2
