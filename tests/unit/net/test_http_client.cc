#include <doctest.h>

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include "base/file.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "raw_server.h"
#include "tls_server.h"

using namespace cvm;
using namespace cvm::net;
using fakes::RawServer;

namespace {

HttpOptions short_timeouts()
{
    HttpOptions o;
    o.connect_timeout_ms = 1000;
    o.io_timeout_ms = 300;
    o.total_timeout_ms = 2000;
    return o;
}

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

// A port on 127.0.0.1 where nothing listens, held by a TCP socket bound to it but not listening:
// a SYN to it is answered with RST (ECONNREFUSED), and no other process can take the port while
// `holder` is open, as one could between closing a listener and connecting to its freed port.
uint16_t closed_port(UniqueFd& holder)
{
    holder.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(holder.valid());
    REQUIRE(bind(holder.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(getsockname(holder.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("GET and POST against the in-process server")
{
    auto server = HttpServer::start({}, [](const HttpRequest& req) {
                      std::string echo = req.method + " " + req.target + " " +
                                         std::string(req.headers.get("Content-Type").value_or("-")) + " " +
                                         std::string(req.body.begin(), req.body.end());
                      int status = req.target == "/missing" ? 404 : 200;
                      return HttpResponse{status,
                                          {{"Content-Type", "text/plain"}, {"Retry-After", "7"}},
                                          Bytes(echo.begin(), echo.end())};
                  }).release_value();
    std::string base = "http://127.0.0.1:" + std::to_string(server->port());

    auto get = http_get(base + "/vcek/v1/Milan/cert_chain?x=1", short_timeouts());
    REQUIRE_MESSAGE(get.ok(), message_of(get.error()));
    CHECK(get->status == 200);
    CHECK(get->body_text() == "GET /vcek/v1/Milan/cert_chain?x=1 - ");
    CHECK(get->content_type() == "text/plain");
    CHECK(get->headers.get("retry-after") == "7");
    CHECK(get->headers.get("Content-Length") == std::to_string(get->body.size()));

    auto post =
        http_post(base + "/attest", as_bytes("{\"a\":1}"), {{"Content-Type", "application/json"}}, short_timeouts());
    REQUIRE(post.ok());
    CHECK(post->body_text() == "POST /attest application/json {\"a\":1}");

    auto missing = http_get(base + "/missing", short_timeouts());
    REQUIRE(missing.ok());  // any status is an answer; the caller decides
    CHECK(missing->status == 404);
}

TEST_CASE("IPv6 loopback, when the machine has it")
{
    ServerOptions options;
    options.address = "::1";
    auto server = HttpServer::start(options, [](const HttpRequest&) { return HttpResponse{204, {}, {}}; });
    if (!server.ok())
        return;  // no IPv6 on this host: nothing to test
    auto r = http_get("http://[::1]:" + std::to_string(server.value()->port()) + "/", short_timeouts());
    REQUIRE_MESSAGE(r.ok(), message_of(r.error()));
    CHECK(r->status == 204);
}

TEST_CASE("outgoing headers the client refuses")
{
    auto crlf = http_post("http://127.0.0.1:1/", {}, {{"X-A", "1\r\nInjected: yes"}});
    CHECK(crlf.error().code() == Errc::Config);
    auto reserved = http_post("http://127.0.0.1:1/", {}, {{"content-length", "5"}});
    CHECK(reserved.error().code() == Errc::Config);
    auto bad_name = http_post("http://127.0.0.1:1/", {}, {{"X A", "1"}});
    CHECK(bad_name.error().code() == Errc::Config);
    CHECK(http_get("gopher://x/").error().code() == Errc::Config);
}

TEST_CASE("chunked responses from a raw peer")
{
    auto peer = RawServer::start("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
                                 "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    auto r = http_get(peer->url("/x"), short_timeouts());
    REQUIRE_MESSAGE(r.ok(), message_of(r.error()));
    CHECK(r->body_text() == "abcde");
    CHECK(r->content_type() == "text/plain");
}

TEST_CASE("malformed, truncated and oversized responses fail with Errc::Network naming the peer")
{
    auto garbage = RawServer::start("HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n");
    auto r = http_get(garbage->url(), short_timeouts());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Network);
    CHECK(message_of(r.error()).find("127.0.0.1:" + std::to_string(garbage->port())) != std::string::npos);

    auto truncated = RawServer::start("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
    r = http_get(truncated->url(), short_timeouts());
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.error()).find("truncated") != std::string::npos);

    auto huge = RawServer::start("HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n" + std::string(4096, 'x'));
    r = http_get(huge->url(), short_timeouts());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Network);
    CHECK(message_of(r.error()).find("over the 1048576 bytes allowed") != std::string::npos);
}

TEST_CASE("a peer that never answers times out with Errc::Unavailable")
{
    auto silent = RawServer::start("", RawServer::Mode::Silent);
    auto start = std::chrono::steady_clock::now();
    auto r = http_get(silent->url(), short_timeouts());
    auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);
    CHECK(message_of(r.error()).find("timed out reading from 127.0.0.1:") != std::string::npos);
    CHECK(took < std::chrono::seconds(2));

    // The overall deadline bounds the exchange even when each wait is allowed to be long.
    HttpOptions total = short_timeouts();
    total.io_timeout_ms = 10000;
    total.total_timeout_ms = 200;
    r = http_get(silent->url(), total);
    CHECK(r.error().code() == Errc::Unavailable);
    CHECK(message_of(r.error()).find("overall deadline") != std::string::npos);
}

TEST_CASE("connection refused is Errc::Unavailable naming host and port")
{
    UniqueFd holder;
    uint16_t port = closed_port(holder);
    auto r = http_get("http://127.0.0.1:" + std::to_string(port) + "/", short_timeouts());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);
    CHECK(message_of(r.error()).find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
    CHECK(message_of(r.error()).find("refused") != std::string::npos);
}

TEST_CASE("https: certificate verification cannot be skipped, failures are explicit")
{
    auto plain = RawServer::start("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", RawServer::Mode::Greet);
    auto r = http_get("https://127.0.0.1:" + std::to_string(plain->port()) + "/", short_timeouts());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Network);
    CHECK(message_of(r.error()).find("TLS") != std::string::npos);

    HttpOptions no_ca = short_timeouts();
    no_ca.ca_file = "/nonexistent/ca.pem";
    r = http_get("https://127.0.0.1:" + std::to_string(plain->port()) + "/", no_ca);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Config);
    CHECK(message_of(r.error()).find("/nonexistent/ca.pem") != std::string::npos);
}

TEST_CASE("https end to end: a server certificate from a local test CA")
{
    char ca_file[] = "/tmp/cvm-net-ca-XXXXXX";
    UniqueFd ca_fd(mkstemp(ca_file));
    REQUIRE(ca_fd.valid());
    auto server = fakes::TlsServer::start(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", ca_file);
    std::string port = std::to_string(server->port());
    HttpOptions options = short_timeouts();
    options.ca_file = ca_file;

    auto r = http_get("https://127.0.0.1:" + port + "/vcek/v1/Milan/cert_chain", options);
    REQUIRE_MESSAGE(r.ok(), message_of(r.error()));
    CHECK(r->status == 200);
    CHECK(r->body_text() == "hello");

    // The certificate names 127.0.0.1, not localhost.
    r = http_get("https://localhost:" + port + "/", options);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Network);
    CHECK(message_of(r.error()).find("does not verify") != std::string::npos);
    CHECK(message_of(r.error()).find("CN") != std::string::npos);

    // The system bundle does not know the test CA.
    options.ca_file = DEFAULT_CA_FILE;
    r = http_get("https://127.0.0.1:" + port + "/", options);
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.error()).find("does not verify") != std::string::npos);
    unlink(ca_file);
}
