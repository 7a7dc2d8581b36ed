#include "initdata/initdata.h"

#include <doctest/doctest.h>

#include <string>

namespace cvm::initdata {
namespace {

// Golden digests: python3 hashlib over the exact bytes of each document, e.g.
// hashlib.sha384(AGENT_384.encode()).hexdigest().
constexpr std::string_view MIN_256 = "algorithm = \"sha256\"\nversion = \"0.1.0\"\n\n[data]\n";
constexpr std::string_view MIN_256_SHA256 = "8042cc8a65ff2a61c55127924ce8bd58f7c44d6fce009fa81bf07ac067619290";

constexpr std::string_view AGENT_384 = "algorithm = \"sha384\"\nversion = \"0.1.0\"\n\n[data]\n"
                                       "\"cvminit.toml\" = '''\nbroker = \"https://kb-eu.example:8443\"\n'''\n";
constexpr std::string_view AGENT_384_SHA384 = "4301d9d9f61bd702e6bb2dd192db635f43443267b6734da821495eabcef434b4"
                                              "3cc54171cac57a9b91e1e2e5db9b7d12";

constexpr std::string_view BASIC_512 =
    "algorithm = \"sha512\"\nversion = \"0.1.0\"\n\n[data]\nkey1 = \"value1\"\nkey2 = \"value2\"\n";
constexpr std::string_view BASIC_512_SHA512 = "fa7b45bf3c10ac963292097f0cbace6dd61097fa70e04790331ab7adcdd4f5bb"
                                              "951fc2b20e32c921f38ebcbabc77c56ed35670713a276fe13c578ff415200d87";

// Trustee kbs/docs/initdata.md, "Initdata Digest Calculating": its TOML example, which the spec
// says digests differently from the same data in JSON (the digest is over the bytes).
constexpr std::string_view TRUSTEE_EXAMPLE =
    "algorithm = \"sha384\"\nversion = \"0.1.0\"\n\n[data]\n\"key1\" = '''value1'''\n\"key2\" = '''value2'''\n";
constexpr std::string_view TRUSTEE_EXAMPLE_SHA384 = "c4a753c59b27454170c1a530881bb3e71ab4ae539a4a6cf88914d8895e7506c5"
                                                    "00f69f8b6cdf226a54acad366eab6927";

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

// Parsing `text` fails with Errc::Config and a message containing `needle`.
void check_refused(std::string_view text, std::string_view needle)
{
    auto r = parse(text);
    REQUIRE_MESSAGE(!r.ok(), text);
    CHECK(r.error().code() == Errc::Config);
    CHECK_MESSAGE(message_of(r.error()).find(needle) != std::string::npos, message_of(r.error()));
}

std::string with_header(std::string_view rest, std::string_view algorithm = "sha384")
{
    return "algorithm = \"" + std::string(algorithm) + "\"\nversion = \"0.1.0\"\n" + std::string(rest);
}

}  // namespace

TEST_CASE("documents parse into their algorithm, version and data, keeping the exact bytes")
{
    auto doc = parse(AGENT_384);
    REQUIRE(doc.ok());
    CHECK(doc->algorithm == Algorithm::Sha384);
    CHECK(doc->version == "0.1.0");
    REQUIRE(doc->data.size() == 1);
    CHECK(doc->data.at(AGENT_ENTRY) == "broker = \"https://kb-eu.example:8443\"\n");
    CHECK(doc->text == AGENT_384);

    auto basic = parse(BASIC_512);
    REQUIRE(basic.ok());
    CHECK(basic->algorithm == Algorithm::Sha512);
    CHECK(basic->data == std::map<std::string, std::string>{{"key1", "value1"}, {"key2", "value2"}});

    auto empty = parse(MIN_256);
    REQUIRE(empty.ok());
    CHECK(empty->algorithm == Algorithm::Sha256);
    CHECK(empty->data.empty());
}

TEST_CASE("digest and HOST_DATA against independently computed digests")
{
    CHECK(to_hex(digest(Algorithm::Sha256, MIN_256)) == MIN_256_SHA256);
    CHECK(to_hex(digest(Algorithm::Sha384, AGENT_384)) == AGENT_384_SHA384);
    CHECK(to_hex(digest(Algorithm::Sha512, BASIC_512)) == BASIC_512_SHA512);
    CHECK(to_hex(digest(Algorithm::Sha384, TRUSTEE_EXAMPLE)) == TRUSTEE_EXAMPLE_SHA384);

    // SHA-256 is HOST_DATA as it is; SHA-384 and SHA-512 keep their first 32 bytes.
    CHECK(to_hex(host_data(parse(MIN_256).value())) == MIN_256_SHA256);
    CHECK(to_hex(host_data(parse(AGENT_384).value())) == AGENT_384_SHA384.substr(0, 64));
    CHECK(to_hex(host_data(parse(BASIC_512).value())) == BASIC_512_SHA512.substr(0, 64));
    CHECK(to_hex(host_data(parse(TRUSTEE_EXAMPLE).value())) == TRUSTEE_EXAMPLE_SHA384.substr(0, 64));
}

TEST_CASE("the digest covers the bytes: any re-encoding of the same data is another HOST_DATA")
{
    auto original = parse(AGENT_384);
    REQUIRE(original.ok());
    // The same data with a comment, with CRLF line ends, and as a basic string.
    std::string commented = "# deployment eu\n" + std::string(AGENT_384);
    std::string crlf;
    for (char c : AGENT_384) {
        if (c == '\n')
            crlf += '\r';
        crlf += c;
    }
    std::string basic = with_header("[data]\n\"cvminit.toml\" = \"broker = \\\"https://kb-eu.example:8443\\\"\\n\"\n");
    for (const std::string& other : {commented, crlf, basic}) {
        auto doc = parse(other);
        REQUIRE_MESSAGE(doc.ok(), other);
        CHECK(doc->data == original->data);
        CHECK(doc->text == other);
        CHECK(host_data(doc.value()) != host_data(original.value()));
    }
    // CRLF inside a multi-line string reads back as LF (TOML lets a parser normalise newlines),
    // while the digest still covers the CRs: python3 hashlib over the CRLF bytes.
    CHECK(to_hex(digest(Algorithm::Sha384, crlf)) == "893b7d26b45552dbed601b28ebd48642649dfd7d9d856a8cf80c769008f3320f"
                                                     "3d2b8ec5970c0ad84530cd05d76f4d8f");
}

TEST_CASE("algorithm: only sha256, sha384 and sha512, as strings")
{
    for (std::string_view bad : {"md5", "sha-384", "SHA384", "sha1", "sha3-384", "", "sha384 "})
        check_refused(with_header("[data]\n", bad), "initdata key 'algorithm'");
    check_refused("algorithm = 384\nversion = \"0.1.0\"\n[data]\n", "initdata key 'algorithm': expected a string");
    check_refused("version = \"0.1.0\"\n[data]\n", "initdata key 'algorithm': missing");
    // The value found is named, the expected ones too.
    auto r = parse(with_header("[data]\n", "md5"));
    REQUIRE(!r.ok());
    CHECK(message_of(r.error()) == "initdata key 'algorithm': \"md5\" is not sha256, sha384 or sha512");
}

TEST_CASE("version: only \"0.1.0\"")
{
    for (std::string_view bad : {"\"0.1.1\"", "\"0.2.0\"", "\"1.0.0\"", "\"0.1\"", "\"\"", "\" 0.1.0\""}) {
        std::string text = "algorithm = \"sha384\"\nversion = " + std::string(bad) + "\n[data]\n";
        check_refused(text, "initdata key 'version'");
    }
    check_refused("algorithm = \"sha384\"\nversion = 0.1\n[data]\n", "initdata key 'version': expected a string");
    check_refused("algorithm = \"sha384\"\n[data]\n", "initdata key 'version': missing");
    auto r = parse("algorithm = \"sha384\"\nversion = \"0.2.0\"\n[data]\n");
    REQUIRE(!r.ok());
    CHECK(message_of(r.error()) == "initdata key 'version': \"0.2.0\", expected \"0.1.0\"");
}

TEST_CASE("keys besides algorithm, version and data are refused")
{
    check_refused(with_header("digest = \"00\"\n[data]\n"), "initdata key 'digest': unknown key");
    check_refused(with_header("[data]\n[extra]\n"), "initdata key 'extra': unknown key");
    check_refused(with_header("[data]\n[data2]\nk = \"v\"\n"), "initdata key 'data2': unknown key");
    check_refused(with_header(""), "initdata key 'data': missing");
    check_refused(with_header("data = \"x\"\n"), "initdata key 'data': expected a table");
    check_refused(with_header("data = [\"x\"]\n"), "initdata key 'data': expected a table");
}

TEST_CASE("data values must be strings")
{
    check_refused(with_header("[data]\nk = 1\n"), "initdata key 'data.\"k\"': expected a string, found a non-string");
    check_refused(with_header("[data]\nk = true\n"), "'data.\"k\"': expected a string");
    check_refused(with_header("[data]\nk = [\"a\"]\n"), "'data.\"k\"': expected a string, found a array");
    check_refused(with_header("[data]\nk = 1979-05-27\n"), "'data.\"k\"': expected a string");
    check_refused(with_header("[data]\n[data.sub]\nk = \"v\"\n"), "'data.\"sub\"': expected a string, found a table");
    check_refused(with_header("[data]\nsub.k = \"v\"\n"), "'data.\"sub\"': expected a string, found a table");
    check_refused(with_header("[data]\nk = { a = \"b\" }\n"), "'data.\"k\"': expected a string, found a table");
}

TEST_CASE("NUL bytes: in the text, or decoded from an escape")
{
    std::string raw = with_header("[data]\nk = 'a") + std::string(1, '\0') + "b'\n";
    auto r = parse(raw);
    REQUIRE(!r.ok());
    CHECK(message_of(r.error()).starts_with("initdata: a NUL byte at offset "));
    check_refused(with_header("[data]\nk = \"a\\u0000b\"\n"), "initdata key 'data.\"k\"': a NUL in the value");
    check_refused(with_header("[data]\n\"a\\u0000b\" = \"v\"\n"), "a NUL in the name");
}

TEST_CASE("size: MAX_INITDATA_SIZE bytes at most")
{
    std::string head = with_header("[data]\nk = '");
    std::string at_limit = head + std::string(MAX_INITDATA_SIZE - head.size() - 2, 'x') + "'\n";
    REQUIRE(at_limit.size() == MAX_INITDATA_SIZE);
    auto ok = parse(at_limit);
    REQUIRE(ok.ok());
    CHECK(ok->data.at("k").size() == MAX_INITDATA_SIZE - head.size() - 2);

    std::string over = head + std::string(MAX_INITDATA_SIZE - head.size() - 1, 'x') + "'\n";
    REQUIRE(over.size() == MAX_INITDATA_SIZE + 1);
    auto r = parse(over);
    REQUIRE(!r.ok());
    CHECK(message_of(r.error()) == "initdata: 65537 bytes, more than the 65536 allowed");
}

TEST_CASE("duplicate keys, bad TOML, invalid UTF-8 and lone CR are syntax errors")
{
    check_refused("algorithm = \"sha384\"\nalgorithm = \"sha256\"\nversion = \"0.1.0\"\n[data]\n",
                  "initdata: TOML syntax error at line 2");
    check_refused(with_header("[data]\nk = \"a\"\nk = \"b\"\n"), "TOML syntax error at line 5");
    check_refused(with_header("[data]\nk = \"a\"\n[data]\nj = \"b\"\n"), "TOML syntax error");
    check_refused(with_header("[data]\n\"k\" = \"a\"\nk = \"b\"\n"), "TOML syntax error");
    check_refused(with_header("[data]\nk = '''unterminated\n"), "TOML syntax error");
    check_refused(with_header("[data]\nk = \"\xff\xfe\"\n"), "TOML syntax error");
    check_refused(with_header("[data]\nk = '''a\rb'''\n"), "TOML syntax error");
    check_refused("algorithm = \"sha384\"\rversion = \"0.1.0\"\n[data]\n", "TOML syntax error");
    check_refused("", "initdata key 'algorithm': missing");
}

TEST_CASE("algorithm_name")
{
    CHECK(algorithm_name(Algorithm::Sha256) == "sha256");
    CHECK(algorithm_name(Algorithm::Sha384) == "sha384");
    CHECK(algorithm_name(Algorithm::Sha512) == "sha512");
}

}  // namespace cvm::initdata
