#include <doctest.h>

#include <string>

#include "agent_client.h"
#include "api/workload_api.h"
#include "base/base64.h"
#include "fake_provider.h"
#include "proto/json.h"
#include "proto/tags.h"
#include "ratls/ratls.h"
#include "snp/report.h"

using namespace cvm;
using namespace cvm::agent;
using namespace cvm::agent::api;
using namespace std::chrono_literals;

namespace {

constexpr const char* RSA_PUBLIC_KEY = R"(-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC9h0nFc52WE4JcBC6zsniejUMY
g185mrescKykgBviB/f+6Y0HaIMrb1DVye8Fcv4QFnUUvMDyfjylVcW0rCTFBwg4
7eQb/wYXlpf1BFQhiz4MEVw63pqlcp12nPMg8unKAf7L4UyMedw3Fb0xYC/62XEs
cov3nqVsJM9SectYYwIDAQAB
-----END PUBLIC KEY-----
)";
constexpr const char* P384_PUBLIC_KEY = R"(-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEBfREHjDNyjVtpTMW8nUVOuX2WZrpJedF
ukdnl6eoaIQPxWxAm0+e3VdQ+7uDG3vFkaIRHRCZq3WXit7ysFY6IG48//oMKrzI
oWU63xguaabaXAN8S4mandPukzQeoI9s
-----END PUBLIC KEY-----
)";
constexpr const char* ED25519_PUBLIC_KEY = R"(-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA+GbwJaN8qfg6agG3f6/qrr6+DnJ5yZw5Nbm0b8NO1pQ=
-----END PUBLIC KEY-----
)";

struct Fixture {
    explicit Fixture(const char* provider_name = PROVIDER_SEV_GUEST) : provider(provider_name), gate(provider)
    {
        auto boot = boot_info_from_report(test::FakeProvider::report({}), provider.name());
        REQUIRE(boot.ok());
        auto issuer = AgentIssuer::create(gate);
        REQUIRE(issuer.ok());
        api = std::make_unique<WorkloadApi>(gate, boot.release_value(), issuer.release_value(), ApiLimits{},
                                            [this] { return now; });
    }

    net::HttpResponse call(const std::string& method, const std::string& target, const std::string& body = "")
    {
        net::HttpRequest request;
        request.method = method;
        request.target = target;
        request.body.assign(body.begin(), body.end());
        return api->handle(request);
    }

    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + 100s;
    test::FakeProvider provider;
    ProviderGate gate;
    std::unique_ptr<WorkloadApi> api;
};

proto::JsonDoc json(const net::HttpResponse& response)
{
    CHECK(response.content_type() == "application/json");
    auto doc = proto::JsonDoc::parse(response.body_text(), "answer");
    REQUIRE(doc.ok());
    return doc.release_value();
}

std::string str(yyjson_val* object, const char* key)
{
    yyjson_val* v = yyjson_obj_get(object, key);
    REQUIRE(yyjson_is_str(v));
    return yyjson_get_str(v);
}

// The error code of an error answer with `status`.
std::string error_code(const net::HttpResponse& response, int status)
{
    CHECK(response.status == status);
    auto doc = json(response);
    yyjson_val* error = yyjson_obj_get(doc.root(), "error");
    REQUIRE(yyjson_is_obj(error));
    CHECK_FALSE(str(error, "message").empty());
    return str(error, "code");
}

std::string tls_body(const std::string& pem, const std::string& extra = "")
{
    std::string escaped;
    for (char c : pem)
        escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
    return "{\"public_key\":\"" + escaped + "\",\"dns_names\":[\"workload.example\"]" + extra + "}";
}

}  // namespace

TEST_CASE("GET /v1/info: the boot report's launch, without asking the provider")
{
    Fixture f;
    auto answer = f.call("GET", "/v1/info");
    REQUIRE(answer.status == 200);
    auto doc = json(answer);
    CHECK(str(doc.root(), "measurement") == to_hex(Bytes(48, 0x4D)));
    CHECK(str(doc.root(), "host_data") == to_hex(Bytes(32, 0x48)));
    CHECK(str(doc.root(), "report_id") == to_hex(Bytes(32, 0x49)));
    CHECK(str(doc.root(), "chip_id") == to_hex(Bytes(64, 0x43)));
    CHECK(str(doc.root(), "platform") == "sev-snp");
    CHECK(str(doc.root(), "provider") == "sev-guest");
    CHECK(yyjson_get_uint(yyjson_obj_get(doc.root(), "vmpl")) == 0);
    CHECK(f.provider.calls.load() == 0);

    Fixture simulated(PROVIDER_SIMULATED);
    auto sim_doc = json(simulated.call("GET", "/v1/info"));
    CHECK(str(sim_doc.root(), "platform") == "simulated");
}

TEST_CASE("GET /v1/info leaves chip_id out when the host masked it")
{
    snp::AttestationReport r = snp::parse_report(test::FakeProvider::report({})).value();
    r.chip_id.fill(0);
    auto raw = snp::serialize_report(r);
    auto info = boot_info_from_report(raw, PROVIDER_SEV_GUEST);
    REQUIRE(info.ok());
    CHECK(info->chip_id.empty());
    CHECK_FALSE(boot_info_from_report(Bytes(100, 0), PROVIDER_SEV_GUEST).ok());
}

TEST_CASE("POST /v1/evidence binds the user data under the workload's tag, never as REPORT_DATA itself")
{
    Fixture f;
    const Bytes user_data = {1, 2, 3, 4};
    auto answer = f.call("POST", "/v1/evidence", R"({"user_data":"01020304"})");
    REQUIRE(answer.status == 200);
    const ReportData expected = proto::workload_user_data(user_data);
    CHECK(f.provider.last_report_data == expected);
    auto doc = json(answer);
    auto report = base64_decode(str(doc.root(), "report"));
    REQUIRE(report);
    CHECK(snp::parse_report(*report).value().report_data == expected);
    CHECK(str(doc.root(), "report_data") == to_hex(expected));
    CHECK(str(doc.root(), "user_data") == "01020304");
    CHECK(str(doc.root(), "provider") == "sev-guest");
    yyjson_val* binding = yyjson_obj_get(doc.root(), "binding");
    CHECK(str(binding, "tag") == proto::WORKLOAD_USER_DATA_TAG);
    CHECK(str(binding, "construction") == "SHA-512(tag || 0x00 || u16be(len) || user_data)");
    // VEK first, then ASK, then ARK, whatever the table's order (ARK, ASK, VCEK in the fake).
    yyjson_val* certs = yyjson_obj_get(doc.root(), "certificates");
    REQUIRE(yyjson_arr_size(certs) == 3);
    CHECK(std::string(yyjson_get_str(yyjson_arr_get(certs, 0))) == base64_encode(Bytes{0x30, 0x01, 0xEC}));
    CHECK(std::string(yyjson_get_str(yyjson_arr_get(certs, 1))) == base64_encode(Bytes{0x30, 0x01, 0xA5}));
    CHECK(std::string(yyjson_get_str(yyjson_arr_get(certs, 2))) == base64_encode(Bytes{0x30, 0x01, 0xA0}));
    // The workload's own 64 bytes never become REPORT_DATA.
    Bytes sixty_four(64, 0x11);
    REQUIRE(f.call("POST", "/v1/evidence", "{\"user_data\":\"" + to_hex(sixty_four) + "\"}").status == 200);
    CHECK(Bytes(f.provider.last_report_data.begin(), f.provider.last_report_data.end()) != sixty_four);
}

TEST_CASE("bad requests are refused before the provider is asked, and cost no rate tokens")
{
    Fixture f;
    CHECK(error_code(f.call("POST", "/v1/evidence", "{"), 400) == "BAD_REQUEST");
    CHECK(error_code(f.call("POST", "/v1/evidence", "{\"user_data\":\"" + std::string(130, '0') + "\"}"), 400) ==
          "BAD_REQUEST");
    CHECK(error_code(f.call("POST", "/v1/evidence", R"({"report_data":"00"})"), 400) == "BAD_REQUEST");
    CHECK(error_code(f.call("GET", "/v1/evidence"), 405) == "METHOD_NOT_ALLOWED");
    CHECK(f.call("GET", "/v1/evidence").headers.get("Allow") == "POST");
    CHECK(error_code(f.call("POST", "/v1/info"), 405) == "METHOD_NOT_ALLOWED");
    CHECK(error_code(f.call("GET", "/v1/nothing"), 404) == "NOT_FOUND");
    CHECK(error_code(f.call("GET", "/v1/info?x=1"), 404) == "NOT_FOUND");
    CHECK(error_code(f.call("POST", "/v1/tls-certificate", tls_body(RSA_PUBLIC_KEY)), 400) == "BAD_REQUEST");
    CHECK(error_code(f.call("POST", "/v1/tls-certificate", tls_body(P384_PUBLIC_KEY)), 400) == "BAD_REQUEST");
    CHECK(error_code(f.call("POST", "/v1/tls-certificate", tls_body("-----BEGIN PUBLIC KEY-----\nAAAA\n")), 400) ==
          "BAD_REQUEST");
    CHECK(f.provider.calls.load() == 0);
    for (int i = 0; i < 20; ++i)  // the whole burst is still there
        REQUIRE(f.call("POST", "/v1/evidence", R"({"user_data":""})").status == 200);
}

TEST_CASE("report requests are rate limited: a burst of 20, then 10 per second, 429 with Retry-After")
{
    Fixture f;
    for (int i = 0; i < 20; ++i)
        REQUIRE(f.call("POST", "/v1/evidence", R"({"user_data":"00"})").status == 200);
    auto refused = f.call("POST", "/v1/evidence", R"({"user_data":"00"})");
    CHECK(error_code(refused, 429) == "RATE_LIMITED");
    CHECK(refused.headers.get("Retry-After") == "1");
    CHECK(f.provider.calls.load() == 20);
    CHECK(f.call("GET", "/v1/info").status == 200);  // not a report request
    f.now += 100ms;
    CHECK(f.call("POST", "/v1/evidence", R"({"user_data":"00"})").status == 200);
    CHECK(f.call("POST", "/v1/evidence", R"({"user_data":"00"})").status == 429);
}

TEST_CASE("a provider error is answered 500 PROVIDER once, then 503 PROVIDER_CLOSED without asking again")
{
    Fixture f;
    f.provider.fail_from = 1;
    REQUIRE(f.call("POST", "/v1/evidence", R"({"user_data":"00"})").status == 200);
    auto failed = f.call("POST", "/v1/evidence", R"({"user_data":"00"})");
    CHECK(error_code(failed, 500) == "PROVIDER");
    CHECK(failed.body_text().find("firmware error 0x16") != std::string_view::npos);
    CHECK(error_code(f.call("POST", "/v1/evidence", R"({"user_data":"00"})"), 503) == "PROVIDER_CLOSED");
    auto key = workload::generate_p256_key();
    REQUIRE(key.ok());
    CHECK(error_code(f.call("POST", "/v1/tls-certificate", tls_body(key->public_key_pem)), 503) == "PROVIDER_CLOSED");
    CHECK(f.provider.calls.load() == 2);
    CHECK(f.call("GET", "/v1/info").status == 200);  // the boot report is still there
}

TEST_CASE("POST /v1/tls-certificate: a leaf for the workload's key with fresh evidence, under a per-boot issuer")
{
    Fixture f;
    f.provider.with_certificates = false;  // lib/ratls parses them; the evidence test checks their order
    auto key = workload::generate_p256_key();
    REQUIRE(key.ok());
    auto spki = ratls::subject_spki_from_pem(key->public_key_pem);
    REQUIRE(spki.ok());
    const Bytes nonce = {0xAA, 0xBB, 0xCC};
    auto answer = f.call("POST", "/v1/tls-certificate", tls_body(key->public_key_pem, R"(,"nonce":"aabbcc")"));
    CAPTURE(answer.body_text().substr(0, 300));
    REQUIRE(answer.status == 200);
    CHECK(f.provider.calls.load() == 2);  // the issuer's report, then the leaf's
    CHECK(f.provider.last_report_data == proto::workload_ratls(spki.value(), nonce));
    auto doc = json(answer);
    auto leaf = ratls::parse_certificate(as_bytes(str(doc.root(), "certificate")));
    CAPTURE((leaf.ok() ? std::string() : std::string(leaf.error().message())));
    REQUIRE(leaf.ok());
    CHECK(leaf->spki == spki.value());
    CHECK(leaf->dns_names == std::vector<std::string>{"workload.example"});
    CHECK(leaf->evidence.subject.binding == proto::WORKLOAD_RATLS_TAG);
    CHECK(leaf->evidence.subject.nonce == nonce);
    CHECK(snp::parse_report(leaf->evidence.subject.report).value().report_data ==
          proto::workload_ratls(spki.value(), nonce));
    REQUIRE(leaf->evidence.issuer);
    CHECK(leaf->evidence.issuer->binding == proto::AGENT_KEY_TAG);
    const Bytes issuer_spki = leaf->evidence.issuer->spki;
    CHECK(snp::parse_report(leaf->evidence.issuer->report).value().report_data == proto::agent_key(issuer_spki));
    auto issuer = ratls::parse_certificate(as_bytes(str(doc.root(), "issuer")));
    REQUIRE(issuer.ok());
    CHECK(issuer->spki == issuer_spki);
    CHECK(issuer->evidence.subject.binding == proto::AGENT_KEY_TAG);
    CHECK_FALSE(issuer->evidence.issuer);

    // The issuer is made once: a second leaf costs one report, under the same issuer key.
    auto ed = f.call("POST", "/v1/tls-certificate", tls_body(ED25519_PUBLIC_KEY));
    REQUIRE(ed.status == 200);
    CHECK(f.provider.calls.load() == 3);
    auto doc2 = json(ed);
    CHECK(str(doc2.root(), "issuer") == str(doc.root(), "issuer"));
    auto leaf2 = ratls::parse_certificate(as_bytes(str(doc2.root(), "certificate")));
    REQUIRE(leaf2.ok());
    CHECK(leaf2->evidence.subject.nonce.empty());
    REQUIRE(leaf2->evidence.issuer);
    CHECK(leaf2->evidence.issuer->spki == issuer_spki);
}
