// The server's starvation limits (net/http_server.h): the per-peer cap on connections still
// sending, the header deadline and the body rate floor. Other addresses are other peers: Linux
// answers on all of 127.0.0.0/8.
#include <doctest.h>

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "raw_server.h"

using namespace cvm;
using namespace cvm::net;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

void raw_send(const UniqueFd& fd, std::string_view data)
{
    REQUIRE(send(fd.get(), data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
}

HttpResponse ok(const HttpRequest& req)
{
    return HttpResponse{200, {{"Content-Type", "text/plain"}}, Bytes(req.body.begin(), req.body.end())};
}

std::string url(const HttpServer& server)
{
    return "http://127.0.0.1:" + std::to_string(server.port()) + "/";
}

ServerOptions options_for_limits()
{
    ServerOptions o;
    o.io_timeout_ms = 5000;
    o.request_timeout_ms = 20000;
    o.header_timeout_ms = 20000;
    o.min_body_rate = 0;
    return o;
}

// Waits until `n` connections have been accepted: each answers a request that follows; the
// server accepts in order, so a probe connection made after them is served after them.
double seconds_since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

TEST_CASE("per-peer cap: one address's slow connections beyond the cap get 503, other addresses are served")
{
    ServerOptions o = options_for_limits();
    o.max_connections = 8;
    o.max_connections_per_peer = 3;
    auto server = HttpServer::start(o, ok).release_value();

    std::vector<UniqueFd> slow;
    for (int i = 0; i < 3; ++i) {
        slow.push_back(fakes::loopback_connect_from("127.0.0.2", server->port()));
        raw_send(slow.back(), "POST / HTTP/1.1\r\nHo");
    }
    std::this_thread::sleep_for(200ms);  // let the acceptor count them
    for (int i = 0; i < 2; ++i) {
        auto over = fakes::loopback_connect_from("127.0.0.2", server->port());
        std::string answer = fakes::read_until_closed(over, 3s);
        CHECK(answer.rfind("HTTP/1.1 503 ", 0) == 0);
        CHECK(answer.find("too many connections from this address") != std::string::npos);
    }
    // Another address is another peer: served at once.
    HttpOptions fast;
    fast.total_timeout_ms = 3000;
    auto r = http_get(url(*server), fast);
    REQUIRE_MESSAGE(r.ok(), std::string(r.error().message()));
    CHECK(r->status == 200);
    // Once its slow connections are gone, the address is served again.
    slow.clear();
    std::this_thread::sleep_for(200ms);
    auto again = fakes::loopback_connect_from("127.0.0.2", server->port());
    raw_send(again, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(fakes::read_until_closed(again, 3s).rfind("HTTP/1.1 200 ", 0) == 0);
}

TEST_CASE("per-peer cap: a request read completely no longer counts, so fast clients of one address are not capped")
{
    ServerOptions o = options_for_limits();
    o.max_connections = 16;
    o.max_connections_per_peer = 2;
    std::mutex mutex;
    std::condition_variable cv;
    int inside = 0;
    bool release = false;
    auto server = HttpServer::start(o, [&](const HttpRequest& req) {
                      std::unique_lock lock(mutex);
                      ++inside;
                      cv.notify_all();
                      cv.wait(lock, [&] { return release; });
                      return ok(req);
                  }).release_value();
    constexpr int CLIENTS = 6;  // three times the cap, all in the handler at once
    std::vector<std::thread> clients;
    std::atomic<int> answered{0};
    for (int i = 0; i < CLIENTS; ++i) {
        clients.emplace_back([&] {
            auto r = http_get(url(*server));
            answered += r.ok() && r->status == 200;
        });
        std::unique_lock lock(mutex);  // one at a time, each into the handler before the next
        CHECK(cv.wait_for(lock, 5s, [&] { return inside == i + 1; }));
    }
    {
        std::lock_guard lock(mutex);
        release = true;
    }
    cv.notify_all();
    for (auto& t : clients)
        t.join();
    CHECK(answered == CLIENTS);
}

TEST_CASE("per-peer cap: the default is a quarter of max_connections; 0 is no cap")
{
    ServerOptions o = options_for_limits();
    o.max_connections = 8;  // default cap 2
    auto server = HttpServer::start(o, ok).release_value();
    std::vector<UniqueFd> slow;
    for (int i = 0; i < 2; ++i) {
        slow.push_back(fakes::loopback_connect_from("127.0.0.3", server->port()));
        raw_send(slow.back(), "GET / HTTP/1.1\r\n");
    }
    std::this_thread::sleep_for(200ms);
    auto third = fakes::loopback_connect_from("127.0.0.3", server->port());
    CHECK(fakes::read_until_closed(third, 3s).rfind("HTTP/1.1 503 ", 0) == 0);

    o.max_connections_per_peer = 0;
    auto uncapped = HttpServer::start(o, ok).release_value();
    std::vector<UniqueFd> many;
    for (int i = 0; i < 5; ++i) {
        many.push_back(fakes::loopback_connect_from("127.0.0.3", uncapped->port()));
        raw_send(many.back(), "GET / HTTP/1.1\r\n");
    }
    std::this_thread::sleep_for(200ms);
    auto sixth = fakes::loopback_connect_from("127.0.0.3", uncapped->port());
    raw_send(sixth, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(fakes::read_until_closed(sixth, 3s).rfind("HTTP/1.1 200 ", 0) == 0);
}

TEST_CASE("header deadline: headers trickled within the I/O timeout are cut at header_timeout_ms")
{
    ServerOptions o = options_for_limits();
    o.header_timeout_ms = 600;
    o.io_timeout_ms = 3000;
    auto server = HttpServer::start(o, ok).release_value();
    auto trickle = fakes::loopback_connect(server->port());
    auto start = Clock::now();
    std::string request = "GET / HTTP/1.1\r\nHost: a\r\nX-Padding: " + std::string(200, 'p') + "\r\n\r\n";
    std::string answer;
    for (size_t i = 0; i + 1 < request.size(); ++i) {  // a byte per 50 ms, never the last one
        if (send(trickle.get(), &request[i], 1, MSG_NOSIGNAL) != 1)
            break;
        pollfd p{trickle.get(), POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            answer = fakes::read_until_closed(trickle, 3s);
            break;
        }
    }
    double took = seconds_since(start);
    CHECK(answer.rfind("HTTP/1.1 408 ", 0) == 0);
    CHECK(took >= 0.5);
    CHECK(took < 2.5);  // long before the 20 s request deadline
}

TEST_CASE("body rate floor: a body slower than min_body_rate is cut with 408; a faster one is served")
{
    ServerOptions o = options_for_limits();
    o.min_body_rate = 200;  // bytes per second
    o.body_grace_ms = 300;
    o.io_timeout_ms = 3000;
    auto server = HttpServer::start(o, ok).release_value();

    auto slow = fakes::loopback_connect(server->port());
    auto start = Clock::now();
    raw_send(slow, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n");
    std::string answer;
    for (int i = 0; i < 200 && answer.empty(); ++i) {  // 10 bytes per 100 ms: 100 B/s
        if (send(slow.get(), "0123456789", 10, MSG_NOSIGNAL) != 10)
            break;
        pollfd p{slow.get(), POLLIN, 0};
        if (poll(&p, 1, 100) > 0)
            answer = fakes::read_until_closed(slow, 3s);
    }
    double took = seconds_since(start);
    CHECK(answer.rfind("HTTP/1.1 408 ", 0) == 0);
    CHECK(took < 3.0);  // byte 60 was due at 0.6 s, and arrived at 0.6 s: cut about then

    auto fast = fakes::loopback_connect(server->port());
    raw_send(fast, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 400\r\n\r\n");
    for (int i = 0; i < 20; ++i) {  // 20 bytes per 40 ms: 500 B/s
        raw_send(fast, "01234567890123456789");
        std::this_thread::sleep_for(40ms);
    }
    CHECK(fakes::read_until_closed(fast, 3s).rfind("HTTP/1.1 200 ", 0) == 0);
}
