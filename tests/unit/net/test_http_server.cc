#include <doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>

#include "base/file.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "raw_server.h"

using namespace cvm;
using namespace cvm::net;
using namespace std::chrono_literals;

namespace {

void raw_send(const UniqueFd& fd, std::string_view data)
{
    REQUIRE(send(fd.get(), data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
}

// Everything the server sends until it closes (or 3 s pass).
struct Counting {
    std::atomic<int> calls{0};
    HttpHandler handler()
    {
        return [this](const HttpRequest& req) {
            ++calls;
            return HttpResponse{200, {{"Content-Type", "text/plain"}}, Bytes(req.body.begin(), req.body.end())};
        };
    }
};

ServerOptions small_limits()
{
    ServerOptions o;
    o.limits.max_body_bytes = 1024;
    o.limits.max_headers = 8;
    o.io_timeout_ms = 300;
    o.request_timeout_ms = 2000;
    return o;
}

}  // namespace

TEST_CASE("server: a body over the cap is refused with 413 before it is read, the handler never runs")
{
    Counting counting;
    auto server = HttpServer::start(small_limits(), counting.handler()).release_value();

    auto declared = fakes::loopback_connect(server->port());
    raw_send(declared, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000\r\n\r\n");
    CHECK(fakes::read_until_closed(declared, 3s).rfind("HTTP/1.1 413 ", 0) == 0);

    auto chunked = fakes::loopback_connect(server->port());
    raw_send(chunked, "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" +
                          std::string(1024, 'a') + "\r\n1\r\nb\r\n0\r\n\r\n");
    CHECK(fakes::read_until_closed(chunked, 3s).rfind("HTTP/1.1 413 ", 0) == 0);

    // The real client sends the whole body, and still reads the early 413.
    HttpOptions options;
    options.io_timeout_ms = 1000;
    Bytes big(4096, 'z');
    auto r = http_post("http://127.0.0.1:" + std::to_string(server->port()) + "/x", big, {}, options);
    REQUIRE_MESSAGE(r.ok(), std::string(r.error().message()));
    CHECK(r->status == 413);

    // At the cap exactly is fine.
    Bytes exact(1024, 'y');
    r = http_post("http://127.0.0.1:" + std::to_string(server->port()) + "/x", exact, {}, options);
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->body == exact);
    CHECK(counting.calls == 1);
}

TEST_CASE("server: malformed requests get 400, too many headers 431")
{
    Counting counting;
    auto server = HttpServer::start(small_limits(), counting.handler()).release_value();

    auto bad = fakes::loopback_connect(server->port());
    raw_send(bad, "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
    CHECK(fakes::read_until_closed(bad, 3s).rfind("HTTP/1.1 400 ", 0) == 0);

    auto headers = fakes::loopback_connect(server->port());
    std::string many = "GET /x HTTP/1.1\r\n";
    for (int i = 0; i < 20; ++i)
        many += "X-" + std::to_string(i) + ": v\r\n";
    raw_send(headers, many + "\r\n");
    CHECK(fakes::read_until_closed(headers, 3s).rfind("HTTP/1.1 431 ", 0) == 0);
    CHECK(counting.calls == 0);
}

TEST_CASE("server: a slow client does not hold up another client")
{
    ServerOptions options = small_limits();
    options.io_timeout_ms = 5000;  // the slow client could hold a single-threaded server this long
    options.request_timeout_ms = 5000;
    Counting counting;
    auto server = HttpServer::start(options, counting.handler()).release_value();

    auto slow = fakes::loopback_connect(server->port());
    raw_send(slow, "GET /slow HTTP/1.1\r\nHo");  // ...and nothing more

    HttpOptions fast;
    fast.total_timeout_ms = 1000;  // fails unless served while the slow client still waits
    auto r = http_get("http://127.0.0.1:" + std::to_string(server->port()) + "/fast", fast);
    REQUIRE_MESSAGE(r.ok(), std::string(r.error().message()));
    CHECK(r->status == 200);
    CHECK(counting.calls == 1);
}

TEST_CASE("server: a client that stops sending gets 408 after the I/O timeout")
{
    Counting counting;
    auto server = HttpServer::start(small_limits(), counting.handler()).release_value();
    auto slow = fakes::loopback_connect(server->port());
    raw_send(slow, "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(fakes::read_until_closed(slow, 3s).rfind("HTTP/1.1 408 ", 0) == 0);
    CHECK(counting.calls == 0);
}

TEST_CASE("server: a client trickling bytes is cut off by the request deadline")
{
    ServerOptions options = small_limits();
    options.request_timeout_ms = 400;
    Counting counting;
    auto server = HttpServer::start(options, counting.handler()).release_value();
    auto trickle = fakes::loopback_connect(server->port());
    std::string request = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
    std::string answer;
    for (size_t i = 0; i + 1 < request.size(); ++i) {  // never the final byte
        if (send(trickle.get(), &request[i], 1, MSG_NOSIGNAL) != 1)
            break;
        pollfd p{trickle.get(), POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            answer = fakes::read_until_closed(trickle, 3s);
            break;
        }
    }
    CHECK(answer.rfind("HTTP/1.1 408 ", 0) == 0);
    CHECK(counting.calls == 0);
}

TEST_CASE("server: the handler's framing headers are replaced; stop() returns with idle connections open")
{
    ServerOptions options = small_limits();
    options.io_timeout_ms = 10000;
    auto server = HttpServer::start(options, [](const HttpRequest&) {
                      return HttpResponse{200,
                                          {{"Content-Length", "999"}, {"Connection", "keep-alive"}, {"X-Ok", "1"}},
                                          Bytes{'h', 'i'}};
                  }).release_value();
    auto r = http_get("http://127.0.0.1:" + std::to_string(server->port()) + "/");
    REQUIRE(r.ok());
    CHECK(r->body_text() == "hi");
    CHECK(r->headers.get("Content-Length") == "2");
    CHECK(r->headers.get("Connection") == "close");
    CHECK(r->headers.get("X-Ok") == "1");

    auto idle = fakes::loopback_connect(server->port());
    raw_send(idle, "GET / HTTP/1.1\r\n");
    auto start = std::chrono::steady_clock::now();
    server->stop();  // shuts the idle connection down rather than waiting out its 10 s timeout
    CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("server: bad listen addresses")
{
    ServerOptions options;
    options.address = "localhost";
    auto r = HttpServer::start(options, [](const HttpRequest&) { return HttpResponse{}; });
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Config);
}
