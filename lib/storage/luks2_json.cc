#include "storage/luks2_json.h"

#include <algorithm>
#include <cinttypes>
#include <vector>

#include "base/base64.h"
#include "storage/luks2_header.h"

namespace cvm::storage::luks2 {
namespace {

std::string_view key_text(yyjson_val* key)
{
    return {yyjson_get_str(key), yyjson_get_len(key)};
}

const char* shown_path(std::string_view path)
{
    return path.empty() ? "the JSON object" : nullptr;
}

}  // namespace

std::string describe(yyjson_val* value)
{
    switch (yyjson_get_type(value)) {
    case YYJSON_TYPE_STR: return "\"" + shown({yyjson_get_str(value), yyjson_get_len(value)}) + "\"";
    case YYJSON_TYPE_NUM:
        if (yyjson_is_uint(value))
            return std::to_string(yyjson_get_uint(value));
        if (yyjson_is_sint(value))
            return std::to_string(yyjson_get_sint(value));
        return "a fraction";
    case YYJSON_TYPE_BOOL: return yyjson_get_bool(value) ? "true" : "false";
    case YYJSON_TYPE_NULL: return "null";
    case YYJSON_TYPE_ARR: return "an array of " + std::to_string(yyjson_arr_size(value));
    case YYJSON_TYPE_OBJ: return "an object";
    default: return "missing";
    }
}

Error unexpected(Errc code, std::string_view path, yyjson_val* found, const char* expected)
{
    const char* root = shown_path(path);
    std::string p(path);
    return Error::make(code, "luks2 header: %s is %s, expected %s", root ? root : p.c_str(), describe(found).c_str(),
                       expected);
}

std::string join(std::string_view path, std::string_view key)
{
    std::string out(path);
    if (!out.empty())
        out += '.';
    out += shown(key);
    return out;
}

Result<yyjson_val*> member(yyjson_val* object, std::string_view path, const char* key)
{
    yyjson_val* v = yyjson_obj_get(object, key);
    if (!v)
        return Error::make(Errc::Format, "luks2 header: %s is missing", join(path, key).c_str());
    return v;
}

Result<void> check_members(yyjson_val* object, std::string_view path, std::initializer_list<std::string_view> required,
                           std::initializer_list<std::string_view> optional)
{
    if (!yyjson_is_obj(object))
        return unexpected(Errc::Format, path, object, "an object");
    const char* root = shown_path(path);
    std::string p(path);
    const char* where = root ? root : p.c_str();
    std::vector<std::string_view> seen;
    yyjson_obj_iter it = yyjson_obj_iter_with(object);
    while (yyjson_val* key = yyjson_obj_iter_next(&it)) {
        std::string_view name = key_text(key);
        if (std::find(required.begin(), required.end(), name) == required.end() &&
            std::find(optional.begin(), optional.end(), name) == optional.end())
            return Error::make(Errc::Format, "luks2 header: %s has member \"%s\", expected none of that name", where,
                               shown(name).c_str());
        if (std::find(seen.begin(), seen.end(), name) != seen.end())
            return Error::make(Errc::Format, "luks2 header: %s has member \"%s\" twice, expected once", where,
                               shown(name).c_str());
        seen.push_back(name);
    }
    for (std::string_view name : required) {
        if (std::find(seen.begin(), seen.end(), name) == seen.end())
            return Error::make(Errc::Format, "luks2 header: %s is missing", join(path, name).c_str());
    }
    return {};
}

Result<yyjson_val*> only_entry_zero(yyjson_val* object, std::string_view path)
{
    if (!yyjson_is_obj(object))
        return unexpected(Errc::Format, path, object, "an object");
    std::string p(path);
    if (yyjson_obj_size(object) == 0)
        return Error::make(Errc::Format, "luks2 header: %s is empty, expected exactly \"0\"", p.c_str());
    yyjson_obj_iter it = yyjson_obj_iter_with(object);
    yyjson_val* found = nullptr;
    while (yyjson_val* key = yyjson_obj_iter_next(&it)) {
        if (key_text(key) != "0" || found)
            return Error::make(Errc::Unsupported, "luks2 header: %s holds \"%s\", expected only \"0\"", p.c_str(),
                               shown(key_text(key)).c_str());
        found = yyjson_obj_iter_get_val(key);
    }
    return found;
}

Result<std::string_view> string_at(yyjson_val* object, std::string_view path, const char* key)
{
    yyjson_val* v = TRY(member(object, path, key));
    if (!yyjson_is_str(v))
        return unexpected(Errc::Format, join(path, key), v, "a string");
    return std::string_view(yyjson_get_str(v), yyjson_get_len(v));
}

Result<void> expect_string(yyjson_val* object, std::string_view path, const char* key, std::string_view expected,
                           Errc code)
{
    yyjson_val* v = TRY(member(object, path, key));
    if (!yyjson_is_str(v) || std::string_view(yyjson_get_str(v), yyjson_get_len(v)) != expected)
        return unexpected(code, join(path, key), v, ("\"" + std::string(expected) + "\"").c_str());
    return {};
}

Result<uint64_t> uint_at(yyjson_val* object, std::string_view path, const char* key, uint64_t min, uint64_t max)
{
    yyjson_val* v = TRY(member(object, path, key));
    if (!yyjson_is_uint(v) || yyjson_get_uint(v) < min || yyjson_get_uint(v) > max) {
        char expected[64];
        snprintf(expected, sizeof expected, "an integer in [%" PRIu64 ", %" PRIu64 "]", min, max);
        return unexpected(Errc::Format, join(path, key), v, expected);
    }
    return yyjson_get_uint(v);
}

Result<uint64_t> uint_in(yyjson_val* object, std::string_view path, const char* key,
                         std::initializer_list<uint64_t> allowed, Errc code)
{
    yyjson_val* v = TRY(member(object, path, key));
    if (yyjson_is_uint(v) && std::find(allowed.begin(), allowed.end(), yyjson_get_uint(v)) != allowed.end())
        return yyjson_get_uint(v);
    std::string expected;
    for (uint64_t a : allowed)
        expected += (expected.empty() ? "" : " or ") + std::to_string(a);
    return unexpected(code, join(path, key), v, expected.c_str());
}

Result<uint64_t> decimal_at(yyjson_val* object, std::string_view path, const char* key)
{
    yyjson_val* v = TRY(member(object, path, key));
    std::string_view s = yyjson_is_str(v) ? std::string_view(yyjson_get_str(v), yyjson_get_len(v)) : "";
    bool digits = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    uint64_t value = 0;
    bool fits = digits && s.size() <= 20 && !(s.size() > 1 && s[0] == '0');
    for (size_t i = 0; fits && i < s.size(); ++i) {
        auto d = static_cast<uint64_t>(s[i] - '0');
        fits = value <= (UINT64_MAX - d) / 10;
        value = value * 10 + d;
    }
    if (!fits)
        return unexpected(Errc::Format, join(path, key), v, "a decimal number below 2^64 in a string");
    return value;
}

Result<std::array<uint8_t, 32>> base64_32_at(yyjson_val* object, std::string_view path, const char* key)
{
    yyjson_val* v = TRY(member(object, path, key));
    std::optional<std::array<uint8_t, 32>> bytes;
    if (yyjson_is_str(v) && yyjson_get_len(v) == 44)
        bytes = base64_decode_fixed<32>({yyjson_get_str(v), yyjson_get_len(v)});
    if (!bytes)
        return unexpected(Errc::Format, join(path, key), v, "the padded base64 of 32 bytes");
    return *bytes;
}

Result<void> expect_zero_list(yyjson_val* object, std::string_view path, const char* key)
{
    yyjson_val* v = TRY(member(object, path, key));
    yyjson_val* first = yyjson_arr_get_first(v);
    if (!yyjson_is_arr(v) || yyjson_arr_size(v) != 1 || !yyjson_equals_str(first, "0"))
        return unexpected(Errc::Format, join(path, key), v, "[\"0\"]");
    return {};
}

}  // namespace cvm::storage::luks2
