#include "proto/jcs.h"

#include <yyjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <memory>
#include <vector>

namespace cvm::proto {
namespace {

constexpr int64_t MAX_SAFE_INTEGER = (int64_t{1} << 53) - 1;  // I-JSON (RFC 7493 §2.2)

// Appends the UTF-16 code units of well-formed UTF-8 `s` to `out`; false on anything else:
// overlong forms, surrogate code points (U+D800..U+DFFF), values above U+10FFFF, truncation.
// The byte ranges are those of Unicode Table 3-7 (well-formed UTF-8 byte sequences).
bool utf8_to_utf16(std::string_view s, std::u16string* out)
{
    for (size_t i = 0; i < s.size();) {
        auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
        uint8_t c = b(i);
        uint32_t cp = 0;
        size_t n = 0;
        uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c < 0x80) {
            cp = c, n = 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            cp = c & 0x1F, n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            cp = c & 0x0F, n = 3;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;  // 0xED 0xA0..0xBF would be a surrogate
        } else if (c >= 0xF0 && c <= 0xF4) {
            cp = c & 0x07, n = 4;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        if (s.size() - i < n)
            return false;
        for (size_t k = 1; k < n; ++k) {
            uint8_t t = b(i + k);
            if (t < (k == 1 ? lo : 0x80) || t > (k == 1 ? hi : 0xBF))
                return false;
            cp = cp << 6 | (t & 0x3F);
        }
        i += n;
        if (!out)
            continue;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out->push_back(static_cast<char16_t>(0xD800 | cp >> 10));
            out->push_back(static_cast<char16_t>(0xDC00 | (cp & 0x3FF)));
        } else {
            out->push_back(static_cast<char16_t>(cp));
        }
    }
    return true;
}

std::string_view str_of(yyjson_val* v)
{
    return {yyjson_get_str(v), yyjson_get_len(v)};
}

class Serializer {
public:
    Result<void> value(yyjson_val* v, size_t depth);
    std::string out;

private:
    Result<void> string(std::string_view s);
    Result<void> number(yyjson_val* v);
    Result<void> array(yyjson_val* v, size_t depth);
    Result<void> object(yyjson_val* v, size_t depth);
    Result<void> check_depth(size_t depth);
    const char* where() { return m_path.empty() ? "(root)" : m_path.c_str(); }

    // Appends one JSON Pointer reference token (RFC 6901 §3: '~' -> "~0", '/' -> "~1"), with
    // control bytes shown as '?' so the error message stays one printable line.
    void push(std::string_view token);

    std::string m_path;  // JSON Pointer of the value being serialized
};

void Serializer::push(std::string_view token)
{
    m_path += '/';
    for (char c : token) {
        if (c == '~')
            m_path += "~0";
        else if (c == '/')
            m_path += "~1";
        else
            m_path += static_cast<uint8_t>(c) < 0x20 || c == 0x7F ? '?' : c;
    }
}

Result<void> Serializer::check_depth(size_t depth)
{
    if (depth > JCS_MAX_DEPTH)
        return Error::make(Errc::Format, "JCS: nesting deeper than %zu arrays/objects at %s", JCS_MAX_DEPTH, where());
    return {};
}

// RFC 8785 §3.2.2.2: the ECMAScript JSON.stringify escapes: \b \t \n \f \r \" \\ and \u00xx
// (lowercase hex) for the other controls below 0x20; every other character as literal UTF-8.
Result<void> Serializer::string(std::string_view s)
{
    if (!utf8_to_utf16(s, nullptr))
        return Error::make(Errc::Format, "JCS: string at %s is not well-formed UTF-8 (or holds a surrogate)", where());
    static constexpr char HEX[] = "0123456789abcdef";
    out += '"';
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\f': out += "\\f"; break;
        case '\r': out += "\\r"; break;
        default:
            if (static_cast<uint8_t>(c) < 0x20) {
                out += "\\u00";
                out += HEX[static_cast<uint8_t>(c) >> 4];
                out += HEX[c & 0xF];
            } else {
                out += c;
            }
        }
    }
    out += '"';
    return {};
}

Result<void> Serializer::number(yyjson_val* v)
{
    if (yyjson_is_real(v))
        return Error::make(Errc::Unsupported, "JCS: non-integer number at %s (only integers within +-(2^53-1))",
                           where());
    char buf[24];
    std::to_chars_result r;
    if (yyjson_is_uint(v)) {
        uint64_t u = yyjson_get_uint(v);
        if (u > static_cast<uint64_t>(MAX_SAFE_INTEGER))
            return Error::make(Errc::Unsupported, "JCS: integer %llu at %s is outside +-(2^53-1) (RFC 7493 §2.2)",
                               static_cast<unsigned long long>(u), where());
        r = std::to_chars(buf, buf + sizeof buf, u);
    } else {
        int64_t i = yyjson_get_sint(v);
        if (i > MAX_SAFE_INTEGER || i < -MAX_SAFE_INTEGER)
            return Error::make(Errc::Unsupported, "JCS: integer %lld at %s is outside +-(2^53-1) (RFC 7493 §2.2)",
                               static_cast<long long>(i), where());
        r = std::to_chars(buf, buf + sizeof buf, i);
    }
    out.append(buf, r.ptr);
    return {};
}

Result<void> Serializer::array(yyjson_val* v, size_t depth)
{
    TRY(check_depth(depth));
    out += '[';
    yyjson_arr_iter it = yyjson_arr_iter_with(v);
    size_t index = 0;
    for (yyjson_val* item; (item = yyjson_arr_iter_next(&it)); ++index) {
        if (index > 0)
            out += ',';
        size_t mark = m_path.size();
        push(std::to_string(index));
        TRY(value(item, depth));
        m_path.resize(mark);
    }
    out += ']';
    return {};
}

Result<void> Serializer::object(yyjson_val* v, size_t depth)
{
    TRY(check_depth(depth));
    struct Member {
        std::u16string sort_key;
        yyjson_val* name;
        yyjson_val* value;
    };
    std::vector<Member> members;
    members.reserve(yyjson_obj_size(v));
    yyjson_obj_iter it = yyjson_obj_iter_with(v);
    for (yyjson_val* name; (name = yyjson_obj_iter_next(&it));) {
        Member m{{}, name, yyjson_obj_iter_get_val(name)};
        if (!utf8_to_utf16(str_of(name), &m.sort_key))
            return Error::make(Errc::Format, "JCS: a member name in %s is not well-formed UTF-8 (or holds a surrogate)",
                               where());
        members.push_back(std::move(m));
    }
    // RFC 8785 §3.2.3: names are compared as arrays of UTF-16 code units (unsigned), which is
    // what std::u16string's operator< does.
    std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) { return a.sort_key < b.sort_key; });
    out += '{';
    for (size_t i = 0; i < members.size(); ++i) {
        size_t mark = m_path.size();
        push(str_of(members[i].name));
        // I-JSON (RFC 7493 §2.3): "Objects in I-JSON messages MUST NOT have members with names
        // that are duplicate"; after sorting, duplicates are neighbours.
        if (i > 0 && members[i].sort_key == members[i - 1].sort_key)
            return Error::make(Errc::Format, "JCS: duplicate member name at %s", where());
        if (i > 0)
            out += ',';
        TRY(string(str_of(members[i].name)));
        out += ':';
        TRY(value(members[i].value, depth));
        m_path.resize(mark);
    }
    out += '}';
    return {};
}

Result<void> Serializer::value(yyjson_val* v, size_t depth)
{
    switch (yyjson_get_type(v)) {
    case YYJSON_TYPE_NULL: out += "null"; return {};
    case YYJSON_TYPE_BOOL: out += yyjson_get_bool(v) ? "true" : "false"; return {};
    case YYJSON_TYPE_NUM: return number(v);
    case YYJSON_TYPE_STR: return string(str_of(v));
    case YYJSON_TYPE_ARR: return array(v, depth + 1);
    case YYJSON_TYPE_OBJ: return object(v, depth + 1);
    default:  // YYJSON_TYPE_RAW (a reader flag we never pass) or no value at all
        return Error::make(Errc::Unsupported, "JCS: value at %s is not a JSON value yyjson typed", where());
    }
}

}  // namespace

Result<std::string> jcs_serialize(yyjson_val* value)
{
    Serializer s;
    TRY(s.value(value, 0));
    return std::move(s.out);
}

Result<std::string> jcs_canonicalize(std::string_view text, size_t max_bytes)
{
    if (text.size() > max_bytes)
        return Error::make(Errc::Format, "JCS: JSON text of %zu bytes exceeds the limit of %zu", text.size(),
                           max_bytes);
    yyjson_read_err err{};
    // Without YYJSON_READ_INSITU yyjson does not write to the input, so dropping const is safe.
    std::unique_ptr<yyjson_doc, decltype(&yyjson_doc_free)> doc(
        yyjson_read_opts(const_cast<char*>(text.data()), text.size(), YYJSON_READ_NOFLAG, nullptr, &err),
        yyjson_doc_free);
    if (!doc)
        return Error::make(Errc::Format, "JCS: invalid JSON at byte %zu: %s", err.pos, err.msg ? err.msg : "?");
    return jcs_serialize(yyjson_doc_get_root(doc.get()));
}

}  // namespace cvm::proto
