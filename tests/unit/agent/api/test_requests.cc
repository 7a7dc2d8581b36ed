#include <doctest.h>

#include <string>

#include "api/requests.h"

using namespace cvm;
using namespace cvm::agent::api;

namespace {

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

std::string tls_body(const std::string& names, const std::string& extra = "")
{
    return R"({"public_key":"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n","dns_names":)" + names +
           extra + "}";
}

}  // namespace

TEST_CASE("evidence requests: user_data is hex of 0 to 64 bytes")
{
    auto ok = parse_evidence_request(R"({"user_data":"00ff10"})");
    REQUIRE(ok.ok());
    CHECK(ok->user_data == Bytes{0x00, 0xff, 0x10});
    CHECK(parse_evidence_request(R"({"user_data":""})").ok());
    CHECK(parse_evidence_request(R"({"user_data":"AbCd"})").ok());
    REQUIRE(parse_evidence_request("{\"user_data\":\"" + std::string(128, 'a') + "\"}").ok());
    auto big = parse_evidence_request("{\"user_data\":\"" + std::string(130, 'a') + "\"}");
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().code() == Errc::Format);
    CHECK(message_of(big.error()) == "evidence request.user_data: 130 hex digits, expected at most 128 (64 bytes)");
}

TEST_CASE("evidence requests: every malformed body is refused, naming what is wrong")
{
    struct Case {
        const char* body;
        const char* says;
    };
    const Case cases[] = {
        {R"({"user_data":"abc"})", "not hex"},
        {R"({"user_data":"zz"})", "not hex"},
        {R"({"user_data":"00 11"})", "not hex"},
        {R"({"user_data":12})", "user_data"},
        {R"({"user_data":null})", "user_data"},
        {R"({})", "user_data"},
        {R"({"user_data":"00","report_data":"00"})", "report_data"},  // the workload cannot choose it
        {R"({"user_data":"00","user_data":"11"})", "user_data"},      // duplicate member
        {R"(["user_data"])", "evidence request"},
        {R"({"user_data":"00")", "evidence request"},  // truncated
        {R"({"user_data":"00"} x)", "evidence request"},
        {"", "evidence request"},
        {"{\"user_data\":\"\xff\"}", "evidence request"},  // invalid UTF-8
    };
    for (const Case& c : cases) {
        CAPTURE(c.body);
        auto got = parse_evidence_request(c.body);
        REQUIRE_FALSE(got.ok());
        CHECK(got.error().code() == Errc::Format);
        CHECK(message_of(got.error()).find(c.says) != std::string::npos);
    }
}

TEST_CASE("tls-certificate requests: key, names and nonce")
{
    auto ok = parse_tls_certificate_request(tls_body(R"(["a.example","b-2.example.org"])", R"(,"nonce":"0102")"));
    REQUIRE(ok.ok());
    CHECK(ok->dns_names == std::vector<std::string>{"a.example", "b-2.example.org"});
    CHECK(ok->nonce == Bytes{1, 2});
    CHECK(ok->public_key_pem.find("BEGIN PUBLIC KEY") != std::string::npos);
    auto no_nonce = parse_tls_certificate_request(tls_body(R"(["localhost"])"));
    REQUIRE(no_nonce.ok());
    CHECK(no_nonce->nonce.empty());
    CHECK(parse_tls_certificate_request(tls_body(R"(["x"])", ",\"nonce\":\"" + std::string(128, 'f') + "\"")).ok());
}

TEST_CASE("tls-certificate requests: bounds and malformed members")
{
    std::string sixteen = "[", seventeen;
    for (int i = 0; i < 16; ++i)
        sixteen += std::string(i ? "," : "") + "\"h" + std::to_string(i) + ".example\"";
    seventeen = sixteen + ",\"h16.example\"]";
    sixteen += "]";
    CHECK(parse_tls_certificate_request(tls_body(sixteen)).ok());
    struct Case {
        std::string body;
        const char* says;
    };
    const Case cases[] = {
        {tls_body(seventeen), "dns_names: 17 names, expected 1 to 16"},
        {tls_body("[]"), "dns_names: 0 names, expected 1 to 16"},
        {tls_body(R"("a.example")"), "expected an array"},
        {tls_body(R"([1])"), "dns_names[0]: expected a string"},
        {tls_body(R"(["ok.example", null])"), "dns_names[1]: expected a string"},
        {tls_body(R"(["*.example"])"), "byte 0x2a"},
        {tls_body(R"(["a_b.example"])"), "byte 0x5f"},
        {tls_body(R"(["a b"])"), "byte 0x20"},
        {tls_body(R"(["a..b"])"), "a label of 0 bytes"},
        {tls_body(R"(["example."])"), "a label of 0 bytes"},
        {tls_body(R"([".example"])"), "a label of 0 bytes"},
        {tls_body(R"(["-a.example"])"), "starting or ending with '-'"},
        {tls_body(R"(["a-.example"])"), "starting or ending with '-'"},
        {tls_body("[\"" + std::string(64, 'a') + ".example\"]"), "a label of 64 bytes"},
        {tls_body("[\"" + std::string(200, 'a') + "\"]"), "a label of 200 bytes"},
        {tls_body(R"([""])"), "a name of 0 bytes"},
        {tls_body(R"(["a\u0000b"])"), "byte 0x00"},
        {tls_body(R"(["x"])", R"(,"nonce":"0g")"), "nonce: not hex"},
        {tls_body(R"(["x"])", ",\"nonce\":\"" + std::string(130, 'f') + "\""), "nonce: 130 hex digits"},
        {tls_body(R"(["x"])", R"(,"nonce":5)"), "nonce"},
        {tls_body(R"(["x"])", R"(,"report_data":"00")"), "report_data"},
        {R"({"dns_names":["x"]})", "public_key"},
        {R"({"public_key":"k"})", "dns_names"},
        {R"({"public_key":7,"dns_names":["x"]})", "public_key"},
        {"{\"public_key\":\"" + std::string(4097, 'k') + "\",\"dns_names\":[\"x\"]}", "public_key: 4097 bytes"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.body);
        auto got = parse_tls_certificate_request(c.body);
        REQUIRE_FALSE(got.ok());
        CHECK(got.error().code() == Errc::Format);
        CHECK(message_of(got.error()).find(c.says) != std::string::npos);
    }
    std::string long_name;
    for (int i = 0; i < 4; ++i)
        long_name += std::string(i ? "." : "") + std::string(63, 'a');  // 255 bytes
    auto too_long = check_dns_name(long_name);
    REQUIRE_FALSE(too_long.ok());
    CHECK(message_of(too_long.error()) == "dns_names: a name of 255 bytes, expected 1 to 253");
    CHECK(check_dns_name(long_name.substr(0, 253)).ok());
}
