// Strict JSON reading for the cvmkb/1 messages, over yyjson.
//
// yyjson's default reader is already strict RFC 8259 (no comments, trailing commas, NaN or
// Infinity; invalid UTF-8 refused). On top of it: an object's member names must be unique
// (I-JSON, RFC 7493 §2.3: a duplicate could mean different things to broker and agent), only the
// members a message defines are allowed, and every value is fetched with its type checked.
// Errors are Errc::Format naming the member as "<message>.<member>".
#pragma once

#include <yyjson.h>

#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/base64.h"
#include "base/result.h"

namespace cvm::proto {

class JsonDoc {
public:
    // Parses `text` (not modified, not kept). `what` names the message in errors.
    static Result<JsonDoc> parse(std::string_view text, const char* what);
    // Parses in place: yyjson unescapes strings inside `buffer`, which must hold the text
    // followed by YYJSON_PADDING_SIZE zero bytes and outlive the document. Used for decrypted
    // secrets, so that no copy of them is made outside the caller's wiping buffer.
    static Result<JsonDoc> parse_in_place(std::span<uint8_t> buffer, size_t text_size, const char* what);

    yyjson_val* root() const { return yyjson_doc_get_root(m_doc.get()); }

private:
    struct Free {
        void operator()(yyjson_doc* doc) const { yyjson_doc_free(doc); }
    };
    std::unique_ptr<yyjson_doc, Free> m_doc;
};

// `value` must be an object whose members are unique, all in `required` or `optional`, and
// include every `required` one. The span form takes the names from arrays (lib/kbs's evidence).
Result<void> check_members(yyjson_val* value, std::string_view what, std::initializer_list<std::string_view> required,
                           std::initializer_list<std::string_view> optional = {});
Result<void> check_members(yyjson_val* value, std::string_view what, std::span<const std::string_view> required,
                           std::span<const std::string_view> optional);

// What `value` is, for "found ..." in an error message: "nothing" (nullptr), "null", "a boolean",
// "a string", "an object", "an array of 3", an integer's value ("-1", "256"), "the float 1.5".
std::string describe_json(yyjson_val* value);

// A member's value with its type checked; nullptr / nullopt for an absent optional member.
Result<std::string_view> string_member(yyjson_val* object, const char* key, std::string_view what);
Result<bool> bool_member(yyjson_val* object, const char* key, std::string_view what);
Result<int64_t> int_member(yyjson_val* object, const char* key, std::string_view what, int64_t min, int64_t max);
Result<yyjson_val*> array_member(yyjson_val* object, const char* key, std::string_view what, size_t max_items);

// Canonical base64 (base/base64.h) of at most `max_bytes` decoded bytes.
Result<Bytes> base64_member(yyjson_val* object, const char* key, std::string_view what, size_t max_bytes);
Result<Bytes> base64_value(yyjson_val* value, std::string_view what, size_t max_bytes);

template <size_t N>
Result<std::array<uint8_t, N>> base64_fixed_member(yyjson_val* object, const char* key, std::string_view what)
{
    std::string_view text = TRY(string_member(object, key, what));
    auto bytes = base64_decode_fixed<N>(text);
    if (!bytes)
        return Error::make(Errc::Format, "%.*s.%s: expected the base64 of %zu bytes", static_cast<int>(what.size()),
                           what.data(), key, N);
    return *bytes;
}

// Writes a yyjson mutable document as compact JSON.
std::string write_json(yyjson_mut_doc* doc);

// A yyjson mutable document that frees itself: the one way this tree builds JSON to send. Its root
// starts as an empty object (set_root replaces it). yyjson fails only on allocation, and then, as
// in write_json, the process ends (abort) rather than send a document with a member missing.
class MutJson {
public:
    MutJson();
    ~MutJson() { yyjson_mut_doc_free(m_doc); }
    MutJson(const MutJson&) = delete;
    MutJson& operator=(const MutJson&) = delete;

    yyjson_mut_doc* doc() const { return m_doc; }
    yyjson_mut_val* root() const { return yyjson_mut_doc_get_root(m_doc); }
    void set_root(yyjson_mut_val* value) { yyjson_mut_doc_set_root(m_doc, value); }

    // A string value holding a copy of `s` (the document owns it; `s` need not outlive it).
    yyjson_mut_val* str(std::string_view s);
    // Adds `key` (not copied: a string literal, or one that outlives the document) to `object`.
    void add(yyjson_mut_val* object, const char* key, yyjson_mut_val* value);
    // The document as compact JSON (write_json).
    std::string text() const { return write_json(m_doc); }

private:
    yyjson_mut_doc* m_doc;
};

}  // namespace cvm::proto
