// http_get with caller headers (the KBS client's Cookie): sent as given, checked like http_post's.
#include <doctest.h>

#include <string>

#include "net/http_client.h"
#include "net/http_server.h"

using namespace cvm;
using namespace cvm::net;

namespace {

std::string header_list(const HttpRequest& req)
{
    std::string out;
    for (const auto& h : req.headers.all())
        out += h.name + "=" + h.value + ";";
    return out;
}

}  // namespace

TEST_CASE("http_get sends the caller's headers and still sets its own")
{
    auto server = HttpServer::start({}, [](const HttpRequest& req) {
                      std::string seen = req.method + " " + req.target + " " + header_list(req);
                      return HttpResponse{200, {}, Bytes(seen.begin(), seen.end())};
                  }).release_value();
    std::string url = "http://127.0.0.1:" + std::to_string(server->port()) + "/kbs/v0/resource/a/b/c";

    auto r = http_get(url, {{"Cookie", "kbs-session-id=0123abcd"}, {"X-Two", "2"}}, HttpOptions{});
    REQUIRE(r.ok());
    std::string seen(r->body_text());
    CHECK(seen.rfind("GET /kbs/v0/resource/a/b/c ", 0) == 0);
    CHECK(seen.find("Cookie=kbs-session-id=0123abcd;X-Two=2;") != std::string::npos);
    CHECK(seen.find("Host=127.0.0.1:") != std::string::npos);
    CHECK(seen.find("Connection=close;") != std::string::npos);

    // No headers: the same request as the plain overload's.
    auto plain = http_get(url, Headers{}, HttpOptions{});
    REQUIRE(plain.ok());
    CHECK(plain->body_text().find("Cookie") == std::string_view::npos);
}

TEST_CASE("http_get refuses headers that could inject lines or override the client's own")
{
    // Nothing listens on port 9: the checks come before any connection is attempted.
    const char* url = "http://127.0.0.1:9/";
    auto injected = http_get(url, {{"Cookie", "a=b\r\nX-Evil: 1"}}, HttpOptions{});
    REQUIRE_FALSE(injected.ok());
    CHECK(injected.error().code() == Errc::Config);

    auto host = http_get(url, {{"host", "elsewhere"}}, HttpOptions{});
    REQUIRE_FALSE(host.ok());
    CHECK(host.error().code() == Errc::Config);
    CHECK(host.error().message().find("Host") != std::string_view::npos);

    auto bad_name = http_get(url, {{"Bad Name", "x"}}, HttpOptions{});
    REQUIRE_FALSE(bad_name.ok());
    CHECK(bad_name.error().code() == Errc::Config);
}
