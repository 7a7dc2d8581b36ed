#include "storage/luks2_metadata.h"

#include <yyjson.h>

#include <cinttypes>
#include <memory>

#include "base/base64.h"
#include "storage/luks2_header.h"
#include "storage/luks2_json.h"
#include "storage/luks2_keyslot.h"

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

Result<bool> parse_tokens(yyjson_val* tokens)
{
    if (!yyjson_is_obj(tokens))
        return unexpected(Errc::Format, "tokens", tokens, "an object");
    // A foreign token is named by its type ("systemd-tpm2", ...), whatever its id.
    yyjson_obj_iter it = yyjson_obj_iter_with(tokens);
    while (yyjson_val* key = yyjson_obj_iter_next(&it)) {
        yyjson_val* type = yyjson_obj_get(yyjson_obj_iter_get_val(key), "type");
        if (yyjson_is_str(type) &&
            !yyjson_equals_strn(type, FORMATTING_TOKEN_TYPE.data(), FORMATTING_TOKEN_TYPE.size()))
            return unexpected(Errc::Unsupported, join("tokens", {yyjson_get_str(key), yyjson_get_len(key)}) + ".type",
                              type, "only our \"cvminit-formatting\" token");
    }
    TRY(check_members(tokens, "tokens", {}, {"0"}));
    yyjson_val* token = yyjson_obj_get(tokens, "0");
    if (!token)
        return false;
    TRY(expect_string(token, "tokens.0", "type", FORMATTING_TOKEN_TYPE, Errc::Unsupported));
    TRY(check_members(token, "tokens.0", {"type", "keyslots"}));
    yyjson_val* keyslots = TRY(member(token, "tokens.0", "keyslots"));
    if (!yyjson_is_arr(keyslots) || yyjson_arr_size(keyslots) != 0)
        return unexpected(Errc::Format, "tokens.0.keyslots", keyslots, "[]");
    return true;
}

Result<Pbkdf2Params> parse_pbkdf2(yyjson_val* object, std::string_view path)
{
    Pbkdf2Params out;
    out.iterations =
        static_cast<uint32_t>(TRY(uint_at(object, path, "iterations", PBKDF2_MIN_ITERATIONS, PBKDF2_MAX_ITERATIONS)));
    out.salt = TRY(base64_32_at(object, path, "salt"));
    return out;
}

Result<void> parse_keyslot(yyjson_val* keyslots, Volume& v)
{
    yyjson_val* ks = TRY(only_entry_zero(keyslots, "keyslots"));
    TRY(expect_string(ks, "keyslots.0", "type", "luks2", Errc::Unsupported));
    TRY(check_members(ks, "keyslots.0", {"type", "key_size", "af", "area", "kdf"}, {"priority"}));
    TRY(uint_in(ks, "keyslots.0", "key_size", {VOLUME_KEY_SIZE}, Errc::Unsupported));
    if (yyjson_obj_get(ks, "priority"))
        v.keyslot_priority = static_cast<uint32_t>(TRY(uint_at(ks, "keyslots.0", "priority", 0, 2)));

    yyjson_val* af = TRY(member(ks, "keyslots.0", "af"));
    TRY(expect_string(af, "keyslots.0.af", "type", "luks1", Errc::Unsupported));
    TRY(check_members(af, "keyslots.0.af", {"type", "stripes", "hash"}));
    TRY(uint_in(af, "keyslots.0.af", "stripes", {AF_STRIPES}, Errc::Unsupported));
    TRY(expect_string(af, "keyslots.0.af", "hash", HASH, Errc::Unsupported));

    yyjson_val* area = TRY(member(ks, "keyslots.0", "area"));
    TRY(expect_string(area, "keyslots.0.area", "type", "raw", Errc::Unsupported));
    TRY(check_members(area, "keyslots.0.area", {"type", "offset", "size", "encryption", "key_size"}));
    TRY(expect_string(area, "keyslots.0.area", "encryption", CIPHER, Errc::Unsupported));
    TRY(uint_in(area, "keyslots.0.area", "key_size", {AF_KEY_SIZE}, Errc::Unsupported));
    v.keyslot_area_offset = TRY(decimal_at(area, "keyslots.0.area", "offset"));
    v.keyslot_area_size = TRY(decimal_at(area, "keyslots.0.area", "size"));

    yyjson_val* kdf = TRY(member(ks, "keyslots.0", "kdf"));
    TRY(expect_string(kdf, "keyslots.0.kdf", "type", "pbkdf2", Errc::Unsupported));
    TRY(check_members(kdf, "keyslots.0.kdf", {"type", "hash", "iterations", "salt"}));
    TRY(expect_string(kdf, "keyslots.0.kdf", "hash", HASH, Errc::Unsupported));
    v.keyslot_kdf = TRY(parse_pbkdf2(kdf, "keyslots.0.kdf"));
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
    TRY(expect_zero_list(dg, "digests.0", "keyslots"));
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
    v.formatting = TRY(parse_tokens(yyjson_obj_get(root, "tokens")));
    TRY(parse_keyslot(yyjson_obj_get(root, "keyslots"), v));
    TRY(parse_segment(yyjson_obj_get(root, "segments"), v));
    TRY(parse_digest(yyjson_obj_get(root, "digests"), v));
    TRY(check_layout(v, device_size));
    return v;
}

std::string write_metadata(const Volume& v)
{
    auto num = [](uint64_t n) { return "\"" + std::to_string(n) + "\""; };
    std::string out = "{\"keyslots\":{\"0\":{\"type\":\"luks2\",\"key_size\":64,"
                      "\"af\":{\"type\":\"luks1\",\"stripes\":4000,\"hash\":\"sha256\"},"
                      "\"area\":{\"type\":\"raw\",\"offset\":" +
                      num(v.keyslot_area_offset) + ",\"size\":" + num(v.keyslot_area_size) +
                      ",\"encryption\":\"aes-xts-plain64\",\"key_size\":64},"
                      "\"kdf\":{\"type\":\"pbkdf2\",\"hash\":\"sha256\",\"iterations\":" +
                      std::to_string(v.keyslot_kdf.iterations) + ",\"salt\":\"" + base64_encode(v.keyslot_kdf.salt) +
                      "\"}";
    if (v.keyslot_priority)
        out += ",\"priority\":" + std::to_string(*v.keyslot_priority);
    out += "}},\"tokens\":{";
    if (v.formatting)
        out += "\"0\":{\"type\":\"" + std::string(FORMATTING_TOKEN_TYPE) + "\",\"keyslots\":[]}";
    out += "},\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":" + num(v.segment_offset) +
           ",\"size\":" + (v.segment_size_dynamic ? std::string("\"dynamic\"") : num(v.segment_size)) +
           ",\"iv_tweak\":\"0\",\"encryption\":\"aes-xts-plain64\",\"sector_size\":" + std::to_string(v.sector_size) +
           "}},\"digests\":{\"0\":{\"type\":\"pbkdf2\",\"keyslots\":[\"0\"],\"segments\":[\"0\"],"
           "\"hash\":\"sha256\",\"iterations\":" +
           std::to_string(v.digest_kdf.iterations) + ",\"salt\":\"" + base64_encode(v.digest_kdf.salt) +
           "\",\"digest\":\"" + base64_encode(v.digest) +
           "\"}},\"config\":{\"json_size\":\"12288\",\"keyslots_size\":" + num(v.keyslots_size) + "}}";
    return out;
}

}  // namespace cvm::storage::luks2
