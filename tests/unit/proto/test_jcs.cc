#include "proto/jcs.h"

#include <doctest/doctest.h>
#include <yyjson.h>

#include <cstdio>
#include <memory>
#include <string>

namespace cvm::proto {
namespace {

std::string canonical(std::string_view text)
{
    auto out = jcs_canonicalize(text);
    if (!out.ok())
        FAIL_CHECK(std::string(out.error().message()));
    REQUIRE(out.ok());
    return out.value();
}

// Canonicalizing must fail with `code` and a message containing `needle`.
void refused(std::string_view text, Errc code, std::string_view needle, size_t max_bytes = JCS_DEFAULT_MAX_BYTES)
{
    CAPTURE(text);
    auto out = jcs_canonicalize(text, max_bytes);
    REQUIRE_FALSE(out.ok());
    CAPTURE(out.error().message());
    CHECK(out.error().code() == code);
    CHECK(out.error().message().find(needle) != std::string_view::npos);
}

TEST_CASE("JCS: RFC 8785 §3.2.2 sample, literals and string (its numbers are reals, refused)")
{
    // The §3.2.2 input minus its "numbers" member; the expected text is §3.2.2's output minus
    // the same member.
    const char* input = R"({
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
})";
    CHECK(canonical(input) ==
          "{\"literals\":[null,true,false],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
    refused(R"({"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001]})", Errc::Unsupported,
            "non-integer number at /numbers/0");
}

TEST_CASE("JCS: RFC 8785 §3.2.3 sorts member names by UTF-16 code units")
{
    const char* input = R"({
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
})";
    // U+1F600 (UTF-16 D83D DE00) sorts before U+FB33, although its UTF-8 (F0 ...) sorts after.
    CHECK(canonical(input) == "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
                              "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
                              "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
                              "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
    CHECK(canonical(R"({"b":1,"a":2,"ab":3,"":4,"B":5})") == R"({"":4,"B":5,"a":2,"ab":3,"b":1})");
}

TEST_CASE("JCS: string escaping of every control character and nothing else")
{
    for (unsigned c = 0; c < 0x20; ++c) {
        CAPTURE(c);
        char input[16], expected[16];
        snprintf(input, sizeof input, "\"\\u%04X\"", c);
        switch (c) {
        case 0x08: snprintf(expected, sizeof expected, "\"\\b\""); break;
        case 0x09: snprintf(expected, sizeof expected, "\"\\t\""); break;
        case 0x0a: snprintf(expected, sizeof expected, "\"\\n\""); break;
        case 0x0c: snprintf(expected, sizeof expected, "\"\\f\""); break;
        case 0x0d: snprintf(expected, sizeof expected, "\"\\r\""); break;
        default: snprintf(expected, sizeof expected, "\"\\u%04x\"", c);
        }
        CHECK(canonical(input) == expected);
    }
    CHECK(canonical(R"("\u007f \/ \u00e9 \"q\" \\")") == "\"\x7f / \xc3\xa9 \\\"q\\\" \\\\\"");
    CHECK(canonical(R"("a\u0000b")") == std::string("\"a\\u0000b\""));
    CHECK(canonical(R"("\uD83D\uDE00")") == "\"\xf0\x9f\x98\x80\"");
}

TEST_CASE("JCS: nested objects and arrays, literals and whitespace")
{
    CHECK(canonical(R"({"b":[1,{"z":null,"a":[]}],"a":{"y":{},"x":-1}})") ==
          R"({"a":{"x":-1,"y":{}},"b":[1,{"a":[],"z":null}]})");
    const std::string expected = R"({"request":{"resources":["disk","tls"]},"v":1})";
    for (const char* variant : {R"({"v":1,"request":{"resources":["disk","tls"]}})",
                                " {\n\t\"request\" : { \"resources\" : [ \"disk\" ,\r\n \"tls\" ] } , \"v\" : 1 }\n",
                                R"({"request":{"resources":["disk","tls"]},"v":1})"}) {
        CAPTURE(variant);
        CHECK(canonical(variant) == expected);
    }
    CHECK(canonical(" true ") == "true");
    CHECK(canonical("null") == "null");
    CHECK(canonical("[]") == "[]");
    CHECK(canonical("{}") == "{}");
    CHECK(canonical(R"("")") == R"("")");
}

TEST_CASE("JCS: duplicate member names are refused, at any depth and however escaped")
{
    refused(R"({"a":1,"a":2})", Errc::Format, "duplicate member name at /a");
    refused(R"({"x":[{"k":1,"j":0,"k":1}]})", Errc::Format, "duplicate member name at /x/0/k");
    refused(R"({"\u0061":1,"a":2})", Errc::Format, "duplicate member name at /a");
    refused(R"({"a/b~":1,"a/b~":2})", Errc::Format, "at /a~1b~0");  // RFC 6901 escaping
}

TEST_CASE("JCS: integers within +-(2^53-1) only; every real refused")
{
    CHECK(canonical("[0,-0,1,-1,9007199254740991,-9007199254740991]") ==
          "[0,0,1,-1,9007199254740991,-9007199254740991]");
    for (const char* big : {"9007199254740992", "-9007199254740992", "18446744073709551615", "-9223372036854775808"})
        refused(big, Errc::Unsupported, "outside");
    for (const char* real : {"1.5", "1e3", "1E3", "-0.0", "1.0", "0.1", "1e-7", "18446744073709551616"})
        refused(real, Errc::Unsupported, "non-integer number at (root)");
    refused(R"({"a":[1,2.5]})", Errc::Unsupported, "non-integer number at /a/1");
}

std::string nested(size_t depth, const char* open, const char* close)
{
    std::string s;
    for (size_t i = 0; i < depth; ++i)
        s += open;
    s += "0";
    for (size_t i = 0; i < depth; ++i)
        s += close;
    return s;
}

TEST_CASE("JCS: nesting depth and input size are bounded")
{
    CHECK(canonical(nested(JCS_MAX_DEPTH, "[", "]")) == nested(JCS_MAX_DEPTH, "[", "]"));
    refused(nested(JCS_MAX_DEPTH + 1, "[", "]"), Errc::Format, "nesting deeper than 32");
    CHECK(canonical(nested(JCS_MAX_DEPTH, "{\"a\":", "}")) == nested(JCS_MAX_DEPTH, "{\"a\":", "}"));
    refused(nested(JCS_MAX_DEPTH + 1, "{\"a\":", "}"), Errc::Format, "nesting deeper than 32");
    refused(nested(30000, "[", "]"), Errc::Format, "nesting deeper than 32");  // no deep recursion

    const std::string text = R"({"k":"0123456789"})";
    CHECK(jcs_canonicalize(text, text.size()).ok());
    refused(text, Errc::Format, "exceeds the limit", text.size() - 1);
    refused(std::string(JCS_DEFAULT_MAX_BYTES + 1, ' '), Errc::Format, "exceeds the limit");
}

TEST_CASE("JCS: invalid UTF-8, surrogates and non-JSON are refused")
{
    for (std::string_view bad :
         {"\"\xff\"", "\"\xc0\x80\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xe2\x82\"", "\"\xf4\x90\x80\x80\"",
          "{\"\xfe\":1}", R"("\ud800")", R"("\udc00")", R"("\ud800\u0041")", R"({"\ud83d":1})"})
        refused(bad, Errc::Format, "invalid JSON");
    for (std::string_view bad : {"", " ", "[1,]", "{\"a\":1,}", "[1] // c", "/* c */ 1", "NaN", "Infinity", "-Infinity",
                                 "'a'", "[1] 2", "01", "\xef\xbb\xbf[1]", "\"tab\there\"", "{a:1}"})
        refused(bad, Errc::Format, "invalid JSON");
}

TEST_CASE("JCS: jcs_serialize checks UTF-8 itself, for documents read with laxer flags")
{
    // yyjson 0.10 refuses lone surrogate escapes even with YYJSON_READ_ALLOW_INVALID_UNICODE...
    for (std::string_view text : {R"(["\ud800"])", R"({"\udfff":1})"})
        CHECK_FALSE(yyjson_read(text.data(), text.size(), YYJSON_READ_ALLOW_INVALID_UNICODE));
    // ...but lets raw invalid UTF-8 through, including an encoded surrogate (ED A0 80).
    for (std::string_view text : {"[\"\xed\xa0\x80\"]", "{\"\xed\xbf\xbf\":1}", "[\"\xff\"]", "[\"\xc0\x80\"]",
                                  "{\"a\":[\"\xf4\x90\x80\x80\"]}"}) {
        CAPTURE(text);
        std::unique_ptr<yyjson_doc, decltype(&yyjson_doc_free)> doc(
            yyjson_read(text.data(), text.size(), YYJSON_READ_ALLOW_INVALID_UNICODE), yyjson_doc_free);
        REQUIRE(doc);
        auto out = jcs_serialize(yyjson_doc_get_root(doc.get()));
        REQUIRE_FALSE(out.ok());
        CHECK(out.error().code() == Errc::Format);
        CHECK(out.error().message().find("not well-formed UTF-8") != std::string_view::npos);
    }
    CHECK_FALSE(jcs_serialize(nullptr).ok());
}

TEST_CASE("JCS: canonical text is a fixed point")
{
    for (const char* text :
         {R"({"z":[{"b":"\u00e9\n","a":-5}],"a":{"\ud83d\ude00":true,"\ufb33":false}})", R"([[],{},"",0,null])"}) {
        std::string once = canonical(text);
        CHECK(canonical(once) == once);
    }
}

}  // namespace
}  // namespace cvm::proto
