#include <doctest.h>

#include <string>

#include "net/url.h"

using namespace cvm;
using namespace cvm::net;

TEST_CASE("URLs the client accepts")
{
    auto kds = parse_url("https://kdsintf.amd.com/vcek/v1/Milan/cert_chain").value();
    CHECK(kds.scheme == Scheme::Https);
    CHECK(kds.host == "kdsintf.amd.com");
    CHECK(kds.port == 443);
    CHECK(kds.target == "/vcek/v1/Milan/cert_chain");
    CHECK(kds.authority() == "kdsintf.amd.com");
    CHECK(kds.to_string() == "https://kdsintf.amd.com/vcek/v1/Milan/cert_chain");

    auto local = parse_url("HTTP://127.0.0.1:8080").value();
    CHECK(local.scheme == Scheme::Http);
    CHECK(local.port == 8080);
    CHECK(local.target == "/");
    CHECK(local.authority() == "127.0.0.1:8080");

    auto v6 = parse_url("http://[::1]:9000/a?b=c#fragment").value();
    CHECK(v6.host == "::1");
    CHECK(v6.port == 9000);
    CHECK(v6.target == "/a?b=c");
    CHECK(v6.authority() == "[::1]:9000");
    CHECK(v6.to_string() == "http://[::1]:9000/a?b=c");

    CHECK(parse_url("http://example.org?x=1").value().target == "/?x=1");
    CHECK(parse_url("https://example.org:443/").value().authority() == "example.org");
    CHECK(parse_url("http://[2001:db8::1]/").value().authority() == "[2001:db8::1]");
    CHECK(parse_url("http://a.b-c_d:65535/%20x").value().target == "/%20x");
}

TEST_CASE("URLs the client refuses, each with its reason")
{
    struct Case {
        const char* url;
        const char* reason;
    };
    const Case cases[] = {
        {"ftp://example.org/", "only http and https"},
        {"example.org/path", "expected http:// or https://"},
        {"https://user:pw@example.org/", "user information"},
        {"https:///path", "the host is empty"},
        {"http://:80/", "the host is empty"},
        {"http://example.org:0/", "port"},
        {"http://example.org:65536/", "port"},
        {"http://example.org:8a/", "port"},
        {"http://example.org:/", "port"},
        {"http://exa mple.org/", "the host may only contain"},
        {"http://example.org/a b", "percent-encoded"},
        {"http://example.org/a\r\nX: y", "percent-encoded"},
        {"http://example.org/\xc3\xa9", "percent-encoded"},
        {"http://[::1/", "unterminated IPv6"},
        {"http://[::g]/", "malformed IPv6"},
        {"http://[::1]x/", "after the IPv6 literal"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.url);
        auto r = parse_url(c.url);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Config);
        CHECK(std::string(r.error().message()).find(c.reason) != std::string::npos);
    }
    std::string huge = "http://example.org/" + std::string(MAX_URL_LENGTH, 'a');
    CHECK(parse_url(huge).error().code() == Errc::Config);
}
