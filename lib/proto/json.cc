#include "proto/json.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace cvm::proto {
namespace {

Error format(std::string_view what, const char* key, const char* expected)
{
    return Error::make(Errc::Format, "%.*s.%s: %s", static_cast<int>(what.size()), what.data(), key, expected);
}

Result<yyjson_val*> member(yyjson_val* object, const char* key, std::string_view what)
{
    yyjson_val* v = yyjson_obj_get(object, key);
    if (!v)
        return format(what, key, "missing");
    return v;
}

}  // namespace

Result<JsonDoc> JsonDoc::parse(std::string_view text, const char* what)
{
    yyjson_read_err err{};
    yyjson_doc* doc = yyjson_read_opts(const_cast<char*>(text.data()), text.size(), YYJSON_READ_NOFLAG, nullptr, &err);
    if (!doc)
        return Error::make(Errc::Format, "%s: not valid JSON at byte %zu: %s", what, err.pos, err.msg);
    JsonDoc out;
    out.m_doc.reset(doc);
    return out;
}

Result<JsonDoc> JsonDoc::parse_in_place(std::span<uint8_t> buffer, size_t text_size, const char* what)
{
    if (buffer.size() < text_size + YYJSON_PADDING_SIZE)
        return Error::make(Errc::Format, "%s: in-place buffer lacks padding", what);
    yyjson_read_err err{};
    yyjson_doc* doc =
        yyjson_read_opts(reinterpret_cast<char*>(buffer.data()), text_size, YYJSON_READ_INSITU, nullptr, &err);
    if (!doc)
        return Error::make(Errc::Format, "%s: not valid JSON at byte %zu: %s", what, err.pos, err.msg);
    JsonDoc out;
    out.m_doc.reset(doc);
    return out;
}

Result<void> check_members(yyjson_val* value, std::string_view what, std::initializer_list<std::string_view> required,
                           std::initializer_list<std::string_view> optional)
{
    return check_members(value, what, std::span<const std::string_view>(required.begin(), required.size()),
                         std::span<const std::string_view>(optional.begin(), optional.size()));
}

Result<void> check_members(yyjson_val* value, std::string_view what, std::span<const std::string_view> required,
                           std::span<const std::string_view> optional)
{
    if (!yyjson_is_obj(value))
        return Error::make(Errc::Format, "%.*s: expected a JSON object", static_cast<int>(what.size()), what.data());
    std::vector<std::string_view> seen;
    yyjson_obj_iter it = yyjson_obj_iter_with(value);
    while (yyjson_val* key = yyjson_obj_iter_next(&it)) {
        std::string_view name(yyjson_get_str(key), yyjson_get_len(key));
        std::string shown(name.substr(0, 64));
        if (std::find(required.begin(), required.end(), name) == required.end() &&
            std::find(optional.begin(), optional.end(), name) == optional.end())
            return format(what, shown.c_str(), "unknown member");
        if (std::find(seen.begin(), seen.end(), name) != seen.end())
            return format(what, shown.c_str(), "duplicate member");
        seen.push_back(name);
    }
    for (std::string_view name : required) {
        if (std::find(seen.begin(), seen.end(), name) == seen.end())
            return format(what, std::string(name).c_str(), "missing");
    }
    return {};
}

Result<std::string_view> string_member(yyjson_val* object, const char* key, std::string_view what)
{
    yyjson_val* v = TRY(member(object, key, what));
    if (!yyjson_is_str(v))
        return format(what, key, "expected a string");
    return std::string_view(yyjson_get_str(v), yyjson_get_len(v));
}

Result<bool> bool_member(yyjson_val* object, const char* key, std::string_view what)
{
    yyjson_val* v = TRY(member(object, key, what));
    if (!yyjson_is_bool(v))
        return format(what, key, "expected true or false");
    return yyjson_get_bool(v);
}

Result<int64_t> int_member(yyjson_val* object, const char* key, std::string_view what, int64_t min, int64_t max)
{
    yyjson_val* v = TRY(member(object, key, what));
    if (!yyjson_is_int(v))
        return format(what, key, "expected an integer");
    int64_t i = yyjson_is_sint(v) ? yyjson_get_sint(v)
                                  : static_cast<int64_t>(std::min<uint64_t>(yyjson_get_uint(v), INT64_MAX));
    if (i < min || i > max)
        return format(what, key, "integer out of range");
    return i;
}

Result<yyjson_val*> array_member(yyjson_val* object, const char* key, std::string_view what, size_t max_items)
{
    yyjson_val* v = TRY(member(object, key, what));
    if (!yyjson_is_arr(v))
        return format(what, key, "expected an array");
    if (yyjson_arr_size(v) > max_items)
        return format(what, key, "too many items");
    return v;
}

Result<Bytes> base64_value(yyjson_val* value, std::string_view what, size_t max_bytes)
{
    if (!yyjson_is_str(value))
        return Error::make(Errc::Format, "%.*s: expected a base64 string", static_cast<int>(what.size()), what.data());
    size_t length = yyjson_get_len(value);
    if (length > (max_bytes + 2) / 3 * 4)
        return Error::make(Errc::Format, "%.*s: longer than %zu bytes", static_cast<int>(what.size()), what.data(),
                           max_bytes);
    auto bytes = base64_decode({yyjson_get_str(value), length});
    if (!bytes)
        return Error::make(Errc::Format, "%.*s: not canonical base64 (RFC 4648 §4, padded)",
                           static_cast<int>(what.size()), what.data());
    return *bytes;
}

Result<Bytes> base64_member(yyjson_val* object, const char* key, std::string_view what, size_t max_bytes)
{
    yyjson_val* v = TRY(member(object, key, what));
    std::string name = std::string(what) + "." + key;
    return base64_value(v, name, max_bytes);
}

std::string describe_json(yyjson_val* value)
{
    char buf[48];
    if (!value)
        return "nothing";
    if (yyjson_is_uint(value))
        snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(yyjson_get_uint(value)));
    else if (yyjson_is_sint(value))
        snprintf(buf, sizeof buf, "%lld", static_cast<long long>(yyjson_get_sint(value)));
    else if (yyjson_is_real(value))
        snprintf(buf, sizeof buf, "the float %g", yyjson_get_real(value));
    else if (yyjson_is_arr(value))
        snprintf(buf, sizeof buf, "an array of %zu", yyjson_arr_size(value));
    else
        return yyjson_is_null(value)   ? "null"
               : yyjson_is_bool(value) ? "a boolean"
               : yyjson_is_str(value)  ? "a string"
                                       : "an object";
    return buf;
}

std::string write_json(yyjson_mut_doc* doc)
{
    size_t length = 0;
    char* text = yyjson_mut_write(doc, YYJSON_WRITE_NOFLAG, &length);
    if (!text)
        abort();  // only on allocation failure
    std::string out(text, length);
    free(text);
    return out;
}

MutJson::MutJson() : m_doc(yyjson_mut_doc_new(nullptr))
{
    yyjson_mut_val* root = m_doc ? yyjson_mut_obj(m_doc) : nullptr;
    if (!root)
        abort();  // only on allocation failure
    yyjson_mut_doc_set_root(m_doc, root);
}

yyjson_mut_val* MutJson::str(std::string_view s)
{
    yyjson_mut_val* v = yyjson_mut_strncpy(m_doc, s.data(), s.size());
    if (!v)
        abort();  // only on allocation failure
    return v;
}

void MutJson::add(yyjson_mut_val* object, const char* key, yyjson_mut_val* value)
{
    if (!yyjson_mut_obj_add_val(m_doc, object, key, value))
        abort();  // only on allocation failure (or a null value, itself an allocation failure)
}

}  // namespace cvm::proto
