// KbsSession against a scripted KBS: the three requests member by member, REPORT_DATA recomputed
// here from the nonce and the JWK, the resources opened and sorted into secrets and volumes.
#include <doctest.h>
#include <mbedtls/sha512.h>

#include <algorithm>
#include <string>

#include "client/kbs_session.h"
#include "kbs_script.h"
#include "proto/json.h"
#include "session_fixture.h"

using namespace cvm;
using namespace cvm::test;
using client::KbsSession;

namespace {

std::string text(const SecretBytes& s)
{
    return {reinterpret_cast<const char*>(s.expose().data()), s.expose().size()};
}

// REPORT_DATA as guest-components computes it (rcar_client.rs, get_composite_evidence): SHA-384
// of the RFC 8785 text of {"additional-evidence","nonce","tee-pubkey"}, written out by hand.
std::array<uint8_t, 64> expected_report_data(const std::string& nonce, const kbs::TeeKey& key)
{
    std::string jcs = "{\"additional-evidence\":\"\",\"nonce\":\"" + nonce +
                      "\",\"tee-pubkey\":{\"alg\":\"ECDH-ES+A256KW\",\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" +
                      key.x() + "\",\"y\":\"" + key.y() + "\"}}";
    std::array<uint8_t, 64> out{};
    REQUIRE(mbedtls_sha512(reinterpret_cast<const uint8_t*>(jcs.data()), jcs.size(), out.data(), 1) == 0);
    return out;
}

std::string header(const net::HttpRequest& r, const char* name)
{
    return std::string(r.headers.get(name).value_or("<absent>"));
}

// The attest body's members, checked one by one against kbs-types' Attestation.
void check_attest_body(const net::HttpRequest& r, const KbsSession& s, const std::optional<std::string>& initdata,
                       size_t cert_count)
{
    std::string body(r.body.begin(), r.body.end());
    auto doc = proto::JsonDoc::parse(body, "attest");
    REQUIRE(doc.ok());
    yyjson_val* root = doc->root();
    CHECK(member_names(root) == "init-data,runtime-data,tee-evidence");

    yyjson_val* init = yyjson_obj_get(root, "init-data");
    if (initdata) {
        CHECK(member_names(init) == "format,body");
        CHECK(string_at(init, "format") == "toml");
        CHECK(string_at(init, "body") == *initdata);
    } else {
        CHECK(yyjson_is_null(init));
    }

    yyjson_val* runtime = yyjson_obj_get(root, "runtime-data");
    CHECK(member_names(runtime) == "nonce,tee-pubkey");
    CHECK(string_at(runtime, "nonce") == SCRIPT_NONCE);
    yyjson_val* jwk = yyjson_obj_get(runtime, "tee-pubkey");
    CHECK(member_names(jwk) == "kty,crv,alg,x,y");
    CHECK(string_at(jwk, "kty") == "EC");
    CHECK(string_at(jwk, "crv") == "P-256");
    CHECK(string_at(jwk, "alg") == "ECDH-ES+A256KW");
    CHECK(string_at(jwk, "x") == s.tee_key().x());
    CHECK(string_at(jwk, "y") == s.tee_key().y());

    yyjson_val* evidence = yyjson_obj_get(root, "tee-evidence");
    CHECK(member_names(evidence) == "primary_evidence,additional_evidence");
    CHECK(string_at(evidence, "additional_evidence") == "");
    yyjson_val* primary = yyjson_obj_get(evidence, "primary_evidence");
    CHECK(member_names(primary) == "attestation_report,cert_chain");
    yyjson_val* report_data = yyjson_ptr_get(primary, "/attestation_report/report_data");
    REQUIRE(yyjson_arr_size(report_data) == 64);
    for (size_t i = 0; i < 64; ++i)
        CHECK(yyjson_get_uint(yyjson_arr_get(report_data, i)) == s.report_data()[i]);
    yyjson_val* chain = yyjson_obj_get(primary, "cert_chain");
    if (cert_count == 0) {
        CHECK(yyjson_is_null(chain));
    } else {
        REQUIRE(yyjson_arr_size(chain) == cert_count);
        CHECK(member_names(yyjson_arr_get_first(chain)) == "cert_type,data");
    }
}

}  // namespace

TEST_CASE("KbsSession: auth, attest and resources as guest-components' RCAR client sends them")
{
    KbsScript script;
    script.resources = {{"default/cvminit/db-password", "hunter2-\x01\xff"}, {"default/volume/data", "key of data"}};
    ScriptedKbs kbs(std::move(script));
    client::KbsOptions options = kbs_options(kbs.url());
    options.resources = {{"db-password", "default/cvminit/db-password", false}, {"data", "default/volume/data", true}};

    auto session = KbsSession::begin(options);
    REQUIRE_MESSAGE(session.ok(), session.error().message());
    KbsSession& s = session.value();
    CHECK(s.nonce() == SCRIPT_NONCE);
    CHECK(s.report_data() == expected_report_data(SCRIPT_NONCE, s.tee_key()));
    CHECK(std::all_of(s.report_data().begin() + 48, s.report_data().end(), [](uint8_t b) { return b == 0; }));

    std::vector<snp::CertEntry> certs = vector_certs();
    REQUIRE(s.attest(vector_report(s.report_data()), certs).ok());
    auto release = s.fetch();
    REQUIRE_MESSAGE(release.ok(), release.error().message());
    CHECK(s.last_status() == 0);

    REQUIRE(release->secrets.size() == 1);
    CHECK(release->secrets[0].name == "db-password");
    CHECK(text(release->secrets[0].value) == "hunter2-\x01\xff");
    CHECK_FALSE(release->secrets[0].env.has_value());
    REQUIRE(release->volumes.size() == 1);
    CHECK(release->volumes[0].name == "data");
    CHECK(text(release->volumes[0].key) == "key of data");
    CHECK(release->volumes[0].recovery.empty());

    std::vector<net::HttpRequest> seen = kbs.requests();
    REQUIRE(seen.size() == 4);
    CHECK(seen[0].method == "POST");
    CHECK(seen[0].target == "/kbs/v0/auth");
    CHECK(header(seen[0], "Content-Type") == "application/json");
    CHECK(header(seen[0], "Cookie") == "<absent>");
    CHECK(std::string(seen[0].body.begin(), seen[0].body.end()) ==
          R"({"version":"0.4.0","tee":"snp","extra-params":{"supported-hash-algorithms":["sha384"]}})");

    std::string cookie = std::string("kbs-session-id=") + SCRIPT_SESSION_ID;
    CHECK(seen[1].target == "/kbs/v0/attest");
    CHECK(header(seen[1], "Content-Type") == "application/json");
    CHECK(header(seen[1], "Cookie") == cookie);
    check_attest_body(seen[1], s, std::nullopt, certs.size());

    CHECK(seen[2].method == "GET");
    CHECK(seen[2].target == "/kbs/v0/resource/default/cvminit/db-password");
    CHECK(header(seen[2], "Cookie") == cookie);
    CHECK(seen[3].target == "/kbs/v0/resource/default/volume/data");
    CHECK(header(seen[3], "Cookie") == cookie);
}

TEST_CASE("KbsSession: init-data is sent as Trustee's {format: toml, body} with the exact text")
{
    ScriptedKbs kbs(KbsScript{});
    client::KbsOptions options = kbs_options(kbs.url());
    options.initdata_toml =
        "algorithm = \"sha384\"\nversion = \"0.1.0\"\n\n[data]\n\"a.toml\" = '''x = \"\\u00e9\"'''\n";
    auto s = KbsSession::begin(options);
    REQUIRE(s.ok());
    REQUIRE(s->attest(vector_report(s->report_data()), {}).ok());
    auto release = s->fetch();
    REQUIRE(release.ok());
    CHECK(release->secrets.empty());
    CHECK(release->volumes.empty());
    std::vector<net::HttpRequest> seen = kbs.requests();
    REQUIRE(seen.size() == 2);
    check_attest_body(seen[1], s.value(), options.initdata_toml, 0);
}

TEST_CASE("KbsSession: the auth reply's other cookies and Trustee's extra-params forms are accepted")
{
    KbsScript script;
    script.set_cookies.insert(script.set_cookies.begin(), "route=abc; Path=/");
    script.set_cookies.push_back("kbs-session-idx=1");
    ScriptedKbs kbs(std::move(script));
    auto s = KbsSession::begin(kbs_options(kbs.url()));
    REQUIRE_MESSAGE(s.ok(), s.error().message());
    REQUIRE(s->attest(vector_report(s->report_data()), {}).ok());
    CHECK(header(kbs.requests()[1], "Cookie") == std::string("kbs-session-id=") + SCRIPT_SESSION_ID);

    for (const char* extra :
         {R"({})", R"({"selected-hash-algorithm":"sha384"})", R"({"selected-hash-algorithm":"SHA384"})"}) {
        KbsScript other;
        other.auth_reply = json_reply(std::string(R"({"nonce":"n0nce","extra-params":)") + extra + "}");
        other.auth_reply->headers.add("Set-Cookie", "kbs-session-id=abc");
        ScriptedKbs kbs2(std::move(other));
        auto s2 = KbsSession::begin(kbs_options(kbs2.url()));
        CHECK_MESSAGE(s2.ok(), extra);
        if (s2.ok())
            CHECK(s2->nonce() == "n0nce");
    }
}

TEST_CASE("KbsSession: the steps run in order, once")
{
    ScriptedKbs kbs(KbsScript{});
    auto s = KbsSession::begin(kbs_options(kbs.url()));
    REQUIRE(s.ok());
    auto early = s->fetch();
    REQUIRE_FALSE(early.ok());
    CHECK(early.error().code() == Errc::Config);
    REQUIRE(s->attest(vector_report(s->report_data()), {}).ok());
    auto again = s->attest(vector_report(s->report_data()), {});
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code() == Errc::Config);
    CHECK(kbs.requests().size() == 2);
}
