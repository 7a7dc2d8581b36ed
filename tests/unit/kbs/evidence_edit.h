// Helpers of the lib/kbs evidence tests (test_evidence.cc, test_evidence_refusals.cc): a JSON text
// edited member by member, a real report in Trustee's form, and the refusal check.
#pragma once

#include <doctest.h>
#include <yyjson.h>

#include <cstring>
#include <string>

#include "../snp/report_vectors.h"
#include "kbs/evidence.h"
#include "proto/json.h"
#include "vectors.h"

namespace cvm::evidence_test {

inline proto::JsonDoc parse(const std::string& text)
{
    auto doc = proto::JsonDoc::parse(text, "test");
    REQUIRE(doc.ok());
    return doc.release_value();
}

// A mutable copy of a JSON text, edited by a test and written back.
struct Edit {
    explicit Edit(const std::string& text) : src(parse(text))
    {
        doc = yyjson_mut_doc_new(nullptr);
        root = yyjson_val_mut_copy(doc, src.root());
        yyjson_mut_doc_set_root(doc, root);
    }
    ~Edit() { yyjson_mut_doc_free(doc); }
    Edit(const Edit&) = delete;
    Edit& operator=(const Edit&) = delete;
    yyjson_mut_val* at(const char* key) const { return key ? yyjson_mut_obj_get(root, key) : root; }
    // Sets object[key] (key nullptr: the root) member `name` to `json`, or removes it (nullptr).
    Edit& set(const char* key, const char* name, const char* json)
    {
        yyjson_mut_val* value = nullptr;
        if (json) {
            yyjson_doc* d = yyjson_read(json, strlen(json), 0);
            REQUIRE(d);
            value = yyjson_val_mut_copy(doc, yyjson_doc_get_root(d));
            yyjson_doc_free(d);
        }
        yyjson_mut_obj_remove_key(at(key), name);
        if (value)
            yyjson_mut_obj_add(at(key), yyjson_mut_strcpy(doc, name), value);
        return *this;
    }
    Edit& set_item(const char* key, size_t index, const char* json)
    {
        yyjson_doc* d = yyjson_read(json, strlen(json), 0);
        REQUIRE(d);
        yyjson_mut_arr_replace(at(key), index, yyjson_val_mut_copy(doc, yyjson_doc_get_root(d)));
        yyjson_doc_free(d);
        return *this;
    }
    std::string text() const { return proto::write_json(doc); }

    proto::JsonDoc src;
    yyjson_mut_doc* doc{nullptr};
    yyjson_mut_val* root{nullptr};
};

inline std::string report_json(const std::string& dir)
{
    auto text = kbs::report_to_json_text(test::read_vector(test::report_path(dir)));
    REQUIRE(text.ok());
    return text.value();
}

inline std::string error_of(const Result<Bytes>& r)
{
    return r.ok() ? "(accepted)" : std::string(r.error().message());
}

// The decoder refuses `text` with Errc::Format and a message naming `member`.
inline void check_refused(const std::string& text, const std::string& member)
{
    auto r = kbs::report_from_json_text(text);
    std::string message = error_of(r);
    CAPTURE(member);
    CAPTURE(message);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Format);
    CHECK(message.find(member) != std::string::npos);
}

}  // namespace cvm::evidence_test
