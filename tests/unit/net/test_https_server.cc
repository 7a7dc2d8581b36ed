#include <doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "raw_server.h"
#include "tls_fixture.h"

using namespace cvm;
using namespace cvm::net;
using namespace std::chrono_literals;
using test::RawTlsClient;
using test::TlsFiles;

namespace {

std::string message_of(const Error& e)
{
    return std::string(e.message());
}

HttpResponse echo(const HttpRequest& req)
{
    std::string text = req.method + " " + req.target + " " + std::string(req.body.begin(), req.body.end());
    return HttpResponse{200, {{"Content-Type", "text/plain"}}, Bytes(text.begin(), text.end())};
}

std::string https_url(const HttpServer& server, const std::string& target = "/")
{
    return "https://127.0.0.1:" + std::to_string(server.port()) + target;
}

// Whether the server has closed (or reset) `fd` within `wait`.
bool closed_within(const UniqueFd& fd, std::chrono::milliseconds wait)
{
    pollfd p{fd.get(), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait.count())) <= 0)
        return false;
    char buf[512];
    return recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT) <= 0;
}

}  // namespace

TEST_CASE("https server: answers http_post; the client verifies it against the test CA for 127.0.0.1")
{
    TlsFiles files;  // CN "cvminit test server": the client matches the iPAddress subjectAltName
    auto server = HttpServer::start(files.server_options(), echo).release_value();

    auto r = http_post(https_url(*server, "/attest"), as_bytes("{\"a\":1}"), {{"Content-Type", "application/json"}},
                       files.client_options());
    REQUIRE_MESSAGE(r.ok(), message_of(r.error()));
    CHECK(r->status == 200);
    CHECK(r->body_text() == "POST /attest {\"a\":1}");

    fakes::TestPki other;
    HttpOptions wrong_ca = files.client_options();
    wrong_ca.ca_file = files.write("other-ca.pem", other.ca_pem());
    r = http_post(https_url(*server), {}, {}, wrong_ca);
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.error()).find("does not verify") != std::string::npos);

    // With a subjectAltName present the CN no longer counts: CN=127.0.0.1 alone does not match.
    fakes::PemIdentity elsewhere = files.pki.issue("127.0.0.1", "127.0.0.2");
    ServerOptions wrong_ip = files.server_options();
    wrong_ip.tls = TlsServerFiles{files.write("ip2.pem", elsewhere.cert), files.write("ip2.key", elsewhere.key)};
    auto other_server = HttpServer::start(wrong_ip, echo).release_value();
    r = http_post(https_url(*other_server), {}, {}, files.client_options());
    REQUIRE_FALSE(r.ok());
    CHECK(message_of(r.error()).find("does not verify") != std::string::npos);

    // Both protocol versions; each answer ends with close_notify (RFC 8446 §6.1).
    RawTlsClient tls13(server->port(), files.ca_file);
    CHECK(tls13.version() == test::TLS_1_3);
    RawTlsClient tls12(server->port(), files.ca_file, test::TLS_1_2);
    CHECK(tls12.version() == test::TLS_1_2);
    for (RawTlsClient* client : {&tls13, &tls12}) {
        client->send("GET /v HTTP/1.1\r\nHost: a\r\n\r\n");
        bool close_notify = false;
        CHECK(client->read_all(&close_notify).rfind("HTTP/1.1 200 ", 0) == 0);
        CHECK(close_notify);
    }
}

TEST_CASE("https server: an RSA key serves TLS 1.3 (RSA-PSS) and TLS 1.2")
{
    TlsFiles files(fakes::KeyKind::Rsa2048);
    auto server = HttpServer::start(files.server_options(), echo).release_value();
    auto r = http_get(https_url(*server, "/rsa"), files.client_options());
    REQUIRE_MESSAGE(r.ok(), message_of(r.error()));
    CHECK(r->body_text() == "GET /rsa ");
    RawTlsClient tls12(server->port(), files.ca_file, test::TLS_1_2);
    CHECK(tls12.version() == test::TLS_1_2);
}

TEST_CASE("https server: its own 400, 408, 413 and 431 answers go over TLS")
{
    TlsFiles files;
    ServerOptions options = files.server_options();
    options.io_timeout_ms = 300;
    options.limits.max_body_bytes = 1024;
    options.limits.max_headers = 8;
    std::atomic<int> calls{0};
    auto server = HttpServer::start(options, [&calls](const HttpRequest& req) {
                      ++calls;
                      return echo(req);
                  }).release_value();

    auto big = http_post(https_url(*server), Bytes(4096, 'z'), {}, files.client_options());
    REQUIRE_MESSAGE(big.ok(), message_of(big.error()));
    CHECK(big->status == 413);

    RawTlsClient malformed(server->port(), files.ca_file);
    malformed.send("GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
    CHECK(malformed.read_all().rfind("HTTP/1.1 400 ", 0) == 0);

    RawTlsClient headers(server->port(), files.ca_file);
    std::string many = "GET /x HTTP/1.1\r\n";
    for (int i = 0; i < 20; ++i)
        many += "X-" + std::to_string(i) + ": v\r\n";
    headers.send(many + "\r\n");
    CHECK(headers.read_all().rfind("HTTP/1.1 431 ", 0) == 0);

    RawTlsClient slow(server->port(), files.ca_file);
    slow.send("POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(slow.read_all().rfind("HTTP/1.1 408 ", 0) == 0);
    CHECK(calls == 0);
}

TEST_CASE("https server: a plain-HTTP client on the TLS port fails cleanly and the server goes on")
{
    TlsFiles files;
    auto server = HttpServer::start(files.server_options(), echo).release_value();
    std::string plain_url = "http://127.0.0.1:" + std::to_string(server->port()) + "/";
    auto start = std::chrono::steady_clock::now();
    auto r = http_get(plain_url, files.client_options());
    REQUIRE_FALSE(r.ok());
    CHECK((r.error().code() == Errc::Network || r.error().code() == Errc::Unavailable));
    CHECK(std::chrono::steady_clock::now() - start < 2s);  // refused at once, not timed out

    auto ok = http_get(https_url(*server), files.client_options());
    REQUIRE_MESSAGE(ok.ok(), message_of(ok.error()));
    CHECK(ok->status == 200);
}

TEST_CASE("https server: a client that never sends a ClientHello times out on its own thread")
{
    TlsFiles files;
    ServerOptions options = files.server_options();
    options.io_timeout_ms = 1500;
    options.request_timeout_ms = 5000;
    auto server = HttpServer::start(options, echo).release_value();

    auto silent = fakes::loopback_connect(server->port());
    auto start = std::chrono::steady_clock::now();
    auto r = http_post(https_url(*server), as_bytes("meanwhile"), {}, files.client_options());
    REQUIRE_MESSAGE(r.ok(), message_of(r.error()));
    CHECK(r->body_text() == "POST / meanwhile");
    CHECK_FALSE(closed_within(silent, 0ms));  // served while the silent handshake still waits

    CHECK(closed_within(silent, 4s));
    CHECK(std::chrono::steady_clock::now() - start >= 1s);  // by its I/O timeout, not before
}

TEST_CASE("https server: the handshake counts against the header deadline")
{
    TlsFiles files;
    ServerOptions options = files.server_options();
    options.io_timeout_ms = 10000;
    options.request_timeout_ms = 20000;
    options.header_timeout_ms = 700;
    auto server = HttpServer::start(options, echo).release_value();

    auto silent = fakes::loopback_connect(server->port());  // never sends a ClientHello
    auto start = std::chrono::steady_clock::now();
    CHECK(closed_within(silent, 5s));
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 500ms);
    CHECK(took < 4s);  // the header deadline, not the 10 s I/O timeout

    // A client whose handshake completes but whose request never ends: closed at the same
    // deadline, counted from accept.
    start = std::chrono::steady_clock::now();
    RawTlsClient partial(server->port(), files.ca_file);
    partial.send("GET / HTTP/1.1\r\nHost: a\r\n");
    std::string answer = partial.read_all();
    CHECK(answer.rfind("HTTP/1.1 408 ", 0) == 0);
    CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("https server: 16 threads at once all get their answers")
{
    TlsFiles files;
    ServerOptions options = files.server_options();
    options.max_connections_per_peer = 0;  // 16 handshakes from one address at once: over the default 8
    auto server = HttpServer::start(options, echo).release_value();
    constexpr int THREADS = 16;
    std::vector<std::string> answers(THREADS);
    std::vector<std::thread> threads;
    for (int i = 0; i < THREADS; ++i) {
        threads.emplace_back([&, i] {
            std::string body = "client " + std::to_string(i);
            auto r = http_post(https_url(*server, "/c"), as_bytes(body), {}, files.client_options());
            answers[static_cast<size_t>(i)] = r.ok() ? std::string(r->body_text()) : message_of(r.error());
        });
    }
    for (auto& t : threads)
        t.join();
    for (int i = 0; i < THREADS; ++i)
        CHECK(answers[static_cast<size_t>(i)] == "POST /c client " + std::to_string(i));
}

TEST_CASE("https server: when busy it closes TLS connections; the client reports Errc::Unavailable either way")
{
    TlsFiles files;
    ServerOptions options = files.server_options();
    options.max_connections = 1;
    options.io_timeout_ms = 3000;
    auto server = HttpServer::start(options, echo).release_value();
    auto holder = fakes::loopback_connect(server->port());  // accepted first: connections are taken in order
    auto r = http_get(https_url(*server), files.client_options());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);  // a reset: the ClientHello was left unread

    // The same close before the ClientHello arrives is an orderly end of stream, not a reset.
    UniqueFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(listen(listener.get(), 1) == 0);
    REQUIRE(getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    std::thread closer([&listener] {
        UniqueFd conn(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        shutdown(conn.get(), SHUT_WR);
        char sink[4096];
        while (recv(conn.get(), sink, sizeof sink, 0) > 0) {  // until the client gives up
        }
    });
    r = http_get("https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/", files.client_options());
    closer.join();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Unavailable);
    CHECK(message_of(r.error()).find("closed the connection") != std::string::npos);
}

TEST_CASE("https server: stop() does not wait out a handshake in progress")
{
    TlsFiles files;
    ServerOptions options = files.server_options();
    options.io_timeout_ms = 10000;
    options.request_timeout_ms = 10000;
    auto server = HttpServer::start(options, echo).release_value();
    auto silent = fakes::loopback_connect(server->port());
    REQUIRE(http_get(https_url(*server), files.client_options()).ok());  // so `silent` has been accepted
    auto start = std::chrono::steady_clock::now();
    server->stop();
    CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("https server: unusable TLS files are refused at start, naming the file")
{
    TlsFiles files;
    auto start_with = [](const TlsServerFiles& tls) {
        ServerOptions options;
        options.tls = tls;
        return HttpServer::start(options, echo);
    };
    auto refused = [&](const TlsServerFiles& tls, const std::string& file, const std::string& reason) {
        auto r = start_with(tls);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Config);
        CHECK_MESSAGE(message_of(r.error()).find(file) != std::string::npos, message_of(r.error()));
        CHECK_MESSAGE(message_of(r.error()).find(reason) != std::string::npos, message_of(r.error()));
    };

    REQUIRE(start_with(files.server_files()).ok());

    std::string stray = files.write("stray.pem", files.pki.stray_key());
    refused({files.cert_file, stray}, stray, "does not match");

    // Leaf first: a chain that starts with the CA does not belong to the key.
    std::string ca_first =
        files.write("ca-first.pem", files.pki.ca_pem() + read_text_file(files.cert_file, 1 << 16).value());
    refused({ca_first, files.key_file}, files.key_file, "does not match");

    std::string missing = files.dir + "/missing.pem";
    refused({files.cert_file, missing}, missing, "No such file");
    refused({missing, files.key_file}, missing, "No such file");

    std::string der = files.write("cert.der", std::string("\x30\x82\x01\x00", 4) + std::string(256, '\x01'));
    refused({der, files.key_file}, der, "not PEM");
    refused({files.cert_file, der}, der, "not PEM");

    std::string corrupt = files.write("corrupt.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    refused({corrupt, files.key_file}, corrupt, "cannot parse");
    std::string corrupt_key =
        files.write("corrupt-key.pem", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
    refused({files.cert_file, corrupt_key}, corrupt_key, "cannot parse");
}
