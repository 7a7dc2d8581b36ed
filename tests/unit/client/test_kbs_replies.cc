// KbsSession on 200 replies of the wrong shape: the session cookie (RFC 6265 §4.1.1), the
// challenge (kbs-types' Challenge), the token reply, oversized bodies, and a resource encrypted
// to another key.
#include <doctest.h>

#include <string>

#include "client/kbs_session.h"
#include "kbs/tee_key.h"
#include "kbs_script.h"
#include "session_fixture.h"

using namespace cvm;
using namespace cvm::test;
using client::KbsSession;

namespace {

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

Error begin_error(KbsScript script)
{
    ScriptedKbs kbs(std::move(script));
    auto s = KbsSession::begin(kbs_options(kbs.url()));
    REQUIRE_FALSE(s.ok());
    return s.error();
}

KbsScript with_cookies(std::vector<std::string> cookies)
{
    KbsScript script;
    script.set_cookies = std::move(cookies);
    return script;
}

KbsScript with_challenge(const std::string& body)
{
    KbsScript script;
    script.auth_reply = json_reply(body);
    script.auth_reply->headers.add("Set-Cookie", "kbs-session-id=abc");
    return script;
}

}  // namespace

TEST_CASE("KbsSession: exactly one well-formed kbs-session-id cookie")
{
    Error e = begin_error(with_cookies({}));
    CHECK(e.code() == Errc::Network);
    CHECK(message_of(e) == "KBS auth: the reply sets no kbs-session-id cookie (Set-Cookie), expected one");

    e = begin_error(
        with_cookies({"kbs-session-id=aaaa", "kbs-session-id=bbbb; Expires=Mon, 07 Dec 2026 02:05:00 GMT"}));
    CHECK(e.code() == Errc::Network);
    CHECK(message_of(e) == "KBS auth: the reply sets the kbs-session-id cookie twice, expected once");

    // The name is case-sensitive (RFC 6265 §5.3 compares names exactly); other names are ignored.
    e = begin_error(with_cookies({"KBS-SESSION-ID=aaaa", "session=aaaa"}));
    CHECK(message_of(e).find("sets no kbs-session-id cookie") != std::string::npos);

    for (const char* bad : {"kbs-session-id=", "kbs-session-id=\"quoted\"", "kbs-session-id=a b", "kbs-session-id=a,b",
                            "kbs-session-id=a\\b", "kbs-session-id=caf\xc3\xa9", "kbs-session-id =a"}) {
        e = begin_error(with_cookies({bad}));
        CAPTURE(bad);
        CHECK(e.code() == Errc::Network);
    }
    e = begin_error(with_cookies({"kbs-session-id=" + std::string(257, 'a')}));
    CHECK(message_of(e) ==
          "KBS auth: the kbs-session-id cookie's value (257 bytes) is not 1 to 256 cookie-octets (RFC 6265 §4.1.1)");
    // The value never appears in a message.
    e = begin_error(with_cookies({"kbs-session-id=secret\"id"}));
    CHECK(message_of(e).find("secret") == std::string::npos);
}

TEST_CASE("KbsSession: the challenge is exactly {nonce, extra-params}")
{
    struct Case {
        std::string body;
        Errc code;
        std::string message;
    };
    std::string long_nonce(1025, 'n');
    std::vector<Case> cases = {
        {"not json", Errc::Format, "KBS auth reply: not valid JSON"},
        {R"({"extra-params":""})", Errc::Format, "KBS auth reply.nonce: missing"},
        {R"({"nonce":"n"})", Errc::Format, "KBS auth reply.extra-params: missing"},
        {R"({"nonce":7,"extra-params":""})", Errc::Format, "KBS auth reply.nonce: expected a string"},
        {R"({"nonce":"","extra-params":""})", Errc::Format, "KBS auth reply.nonce: found 0 bytes, expected 1 to 1024"},
        {R"({"nonce":")" + long_nonce + R"(","extra-params":""})", Errc::Format,
         "KBS auth reply.nonce: found 1025 bytes, expected 1 to 1024"},
        {R"({"nonce":"n","extra-params":"","token":"t"})", Errc::Format, "KBS auth reply.token: unknown member"},
        {R"({"nonce":"n","nonce":"m","extra-params":""})", Errc::Format, "KBS auth reply.nonce: duplicate member"},
        {R"({"nonce":"n","extra-params":"x"})", Errc::Format,
         "KBS auth reply.extra-params: found the string \"x\", expected \"\" or an object"},
        {R"({"nonce":"n","extra-params":null})", Errc::Format, "KBS auth reply.extra-params: expected a JSON object"},
        {R"({"nonce":"n","extra-params":{"other":1}})", Errc::Format,
         "KBS auth reply.extra-params.other: unknown member"},
        {R"({"nonce":"n","extra-params":{"selected-hash-algorithm":"sha512"}})", Errc::Unsupported,
         "KBS auth reply.extra-params.selected-hash-algorithm: found \"sha512\", expected \"sha384\""},
        {R"({"nonce":"n","extra-params":{"selected-hash-algorithm":384}})", Errc::Format,
         "KBS auth reply.extra-params.selected-hash-algorithm: expected a string"},
        {R"(["n",""])", Errc::Format, "KBS auth reply: expected a JSON object"},
    };
    for (const Case& c : cases) {
        Error e = begin_error(with_challenge(c.body));
        CAPTURE(c.body);
        CHECK(e.code() == c.code);
        CHECK(message_of(e).rfind(c.message, 0) == 0);
    }

    KbsScript huge = with_challenge(R"({"nonce":"n","extra-params":")" + std::string(16 * 1024, ' ') + "\"}");
    Error e = begin_error(std::move(huge));
    CHECK(e.code() == Errc::Network);
    CHECK(message_of(e).rfind("KBS auth: ", 0) == 0);
}

TEST_CASE("KbsSession: the attest reply is exactly {token: non-empty string}")
{
    for (const char* body : {"", "token", R"({})", R"({"token":5})", R"({"token":""})", R"({"token":"t","extra":1})",
                             R"({"token":null})", R"(["t"])"}) {
        KbsScript script;
        script.attest_reply = json_reply(body);
        ScriptedKbs kbs(std::move(script));
        auto s = KbsSession::begin(kbs_options(kbs.url()));
        REQUIRE(s.ok());
        auto r = s->attest(vector_report(s->report_data()), {});
        CAPTURE(body);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Format);
        CHECK(message_of(r.error()).rfind("KBS attest reply", 0) == 0);
        CHECK(s->last_status() == 0);
        // Not attested: no resource is asked for.
        CHECK(s->fetch().error().code() == Errc::Config);
    }

    KbsScript huge;
    huge.attest_reply = json_reply(R"({"token":")" + std::string(256 * 1024, 'a') + "\"}");
    ScriptedKbs kbs(std::move(huge));
    auto s = KbsSession::begin(kbs_options(kbs.url()));
    REQUIRE(s.ok());
    auto r = s->attest(vector_report(s->report_data()), {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Network);
    CHECK(message_of(r.error()).rfind("KBS attest: ", 0) == 0);
}

TEST_CASE("KbsSession: a report the encoder refuses is not sent")
{
    ScriptedKbs kbs(KbsScript{});
    auto s = KbsSession::begin(kbs_options(kbs.url()));
    REQUIRE(s.ok());
    Bytes report = vector_report(s->report_data());
    report.pop_back();
    auto r = s->attest(report, {});
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.error()).rfind("KBS attest: ", 0) == 0);
    CHECK(kbs.requests().size() == 1);
}

TEST_CASE("KbsSession: a resource encrypted to another key, or not a JWE, names the resource")
{
    auto other = kbs::TeeKey::generate();
    REQUIRE(other.ok());
    KbsScript script;
    script.resource_replies["default/cvminit/db"] = json_reply(jwe_to(other->x(), other->y(), as_bytes("s3cret")));
    script.resource_replies["default/cvminit/text"] = json_reply(R"({"protected":"e30"})");
    ScriptedKbs kbs(std::move(script));
    client::KbsOptions options = kbs_options(kbs.url());
    options.resources = {{"db", "default/cvminit/db", false}};
    auto s = KbsSession::begin(options);
    REQUIRE(s.ok());
    REQUIRE(s->attest(vector_report(s->report_data()), {}).ok());
    auto r = s->fetch();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Crypto);
    CHECK(message_of(r.error()).rfind("KBS resource db (default/cvminit/db): ", 0) == 0);
    CHECK(message_of(r.error()).find("s3cret") == std::string::npos);
    CHECK(s->last_status() == 0);

    options.resources = {{"text", "default/cvminit/text", false}};
    auto s2 = KbsSession::begin(options);
    REQUIRE(s2.ok());
    REQUIRE(s2->attest(vector_report(s2->report_data()), {}).ok());
    auto r2 = s2->fetch();
    REQUIRE_FALSE(r2.ok());
    CHECK(r2.error().code() == Errc::Format);
    CHECK(message_of(r2.error()).rfind("KBS resource text (default/cvminit/text): ", 0) == 0);
}
