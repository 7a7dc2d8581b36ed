#include <doctest/doctest.h>

#include <string>

#include "initdata/initdata.h"

namespace cvm::initdata {
namespace {

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

// compose() then parse() gives back the algorithm and the data, and the text composed.
void check_round_trip(Algorithm algorithm, const std::map<std::string, std::string>& data)
{
    auto text = compose(algorithm, data);
    REQUIRE_MESSAGE(text.ok(), message_of(text.error()));
    auto doc = parse(text.value());
    REQUIRE_MESSAGE(doc.ok(), text.value());
    CHECK(doc->algorithm == algorithm);
    CHECK(doc->version == INITDATA_VERSION);
    CHECK(doc->data == data);
    CHECK(doc->text == text.value());
}

void check_refused(const std::map<std::string, std::string>& data, std::string_view needle)
{
    auto r = compose(Algorithm::Sha384, data);
    REQUIRE(!r.ok());
    CHECK(r.error().code() == Errc::Config);
    CHECK_MESSAGE(message_of(r.error()).find(needle) != std::string::npos, message_of(r.error()));
}

}  // namespace

TEST_CASE("compose writes the canonical form: the two keys, then [data] in name order")
{
    auto text = compose(Algorithm::Sha384, {{"z.toml", "b = 2\n"}, {"cvminit.toml", "broker = \"https://kb\"\n"}});
    REQUIRE(text.ok());
    CHECK(text.value() == "algorithm = \"sha384\"\n"
                          "version = \"0.1.0\"\n"
                          "\n"
                          "[data]\n"
                          "\"cvminit.toml\" = '''\n"
                          "broker = \"https://kb\"\n"
                          "'''\n"
                          "\"z.toml\" = '''\n"
                          "b = 2\n"
                          "'''\n");
    // The same input gives the same bytes, hence the same HOST_DATA.
    auto again = compose(Algorithm::Sha384, {{"cvminit.toml", "broker = \"https://kb\"\n"}, {"z.toml", "b = 2\n"}});
    REQUIRE(again.ok());
    CHECK(again.value() == text.value());

    auto empty = compose(Algorithm::Sha256, {});
    REQUIRE(empty.ok());
    CHECK(empty.value() == "algorithm = \"sha256\"\nversion = \"0.1.0\"\n\n[data]\n");
}

TEST_CASE("compose round-trips through parse")
{
    check_round_trip(Algorithm::Sha256, {});
    check_round_trip(Algorithm::Sha512, {{"a", ""}});
    check_round_trip(Algorithm::Sha384, {{"cvminit.toml", "broker = \"https://kb-eu.example:8443\"\n"}});
    // Values the literal-string form must carry exactly: no final newline, leading newlines
    // (only the one after ''' is trimmed), quotes and backslashes, one or two final quotes,
    // '' inside, tabs, UTF-8.
    check_round_trip(Algorithm::Sha384, {{"k", "no newline"},
                                         {"l", "\n\nafter two newlines\n"},
                                         {"m", "\"quoted\" \\ back\\slash \\n"},
                                         {"n", "ends with a quote'"},
                                         {"o", "ends with two''"},
                                         {"p", "two '' inside"},
                                         {"q", "\ttab\t\n"},
                                         {"r", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"}});
    // Names with the characters a quoted key escapes, dots, spaces and an apostrophe.
    check_round_trip(Algorithm::Sha384, {{"a\"b", "1"}, {"c\\d", "2"}, {"e.f", "3"}, {"g h", "4"}, {"it's", "5"}});
}

TEST_CASE("compose refuses what a TOML literal string cannot hold")
{
    check_refused({{"k", "a'''b"}}, "initdata entry \"k\": the value contains '''");
    check_refused({{"k", "'''"}}, "contains '''");
    check_refused({{"k", "a''''"}}, "contains '''");
    check_refused({{"k", std::string("a\0b", 3)}}, "initdata entry \"k\": the value is not UTF-8 text");
    check_refused({{"k", "a\r\nb"}}, "no CR");
    check_refused({{"k", "bell\x07"}}, "control characters");
    check_refused({{"k", "del\x7f"}}, "control characters");
    check_refused({{"k", "\xff"}}, "not UTF-8");
    check_refused({{"k", "\xc0\xaf"}}, "not UTF-8");          // overlong '/'
    check_refused({{"k", "\xe0\x80\xaf"}}, "not UTF-8");      // overlong, three bytes
    check_refused({{"k", "\xed\xa0\x80"}}, "not UTF-8");      // a surrogate
    check_refused({{"k", "\xf4\x90\x80\x80"}}, "not UTF-8");  // past U+10FFFF
    check_refused({{"k", "\xe2\x82"}}, "not UTF-8");          // truncated
    check_refused({{"k", "\xe2(\xa1"}}, "not UTF-8");         // a bad continuation byte
}

TEST_CASE("compose refuses names that are not printable ASCII")
{
    check_refused({{"", "v"}}, "a name must be printable ASCII");
    check_refused({{"a\nb", "v"}}, "initdata entry (3 bytes): a name must be printable ASCII");
    check_refused({{"caf\xc3\xa9", "v"}}, "a name must be printable ASCII");
    check_refused({{std::string("a\0b", 3), "v"}}, "a name must be printable ASCII");
}

TEST_CASE("compose refuses a document over MAX_INITDATA_SIZE")
{
    auto r = compose(Algorithm::Sha384, {{"k", std::string(MAX_INITDATA_SIZE, 'x')}});
    REQUIRE(!r.ok());
    CHECK(message_of(r.error()).find("more than the 65536 allowed") != std::string::npos);
    // At the limit it is accepted and parses back.
    auto head = compose(Algorithm::Sha384, {{"k", ""}});
    REQUIRE(head.ok());
    check_round_trip(Algorithm::Sha384, {{"k", std::string(MAX_INITDATA_SIZE - head->size(), 'x')}});
}

}  // namespace cvm::initdata
