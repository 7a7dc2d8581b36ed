// TLS without a CA on both sides of lib/net: the client whose trust is a caller's check of the
// server's certificate (tls_connect_checked), and the server that chooses its certificate per
// handshake from the client's SNI (TlsServerContext::create_selecting), as RA-TLS uses them.
#include <doctest.h>

#include <mbedtls/x509_crt.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "base/file.h"
#include "net/http_server.h"
#include "net/io.h"
#include "net/tls.h"
#include "tls_fixture.h"

using namespace cvm;
using namespace cvm::net;

namespace {

Bytes der_of(const std::string& pem)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    REQUIRE(mbedtls_x509_crt_parse(&crt, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1) == 0);
    Bytes der(crt.raw.p, crt.raw.p + crt.raw.len);
    mbedtls_x509_crt_free(&crt);
    return der;
}

// A selecting server for the key of `own`, whose selector records the names it is asked for and
// answers with `answer(name)`.
struct SelectingServer {
    SelectingServer(const fakes::PemIdentity& own, std::function<Result<Bytes>(std::string_view)> answer)
    {
        auto context = TlsServerContext::create_selecting(SecretBytes::copy_of(as_bytes(own.key)),
                                                          [this, answer](std::string_view name) {
                                                              std::lock_guard lock(mutex);
                                                              names.emplace_back(name);
                                                              return answer(name);
                                                          });
        REQUIRE(context.ok());
        ServerOptions o;
        o.io_timeout_ms = 2000;
        o.tls_context = context.release_value();
        server = HttpServer::start(o, [](const HttpRequest& r) {
                     return HttpResponse{200, {}, Bytes(r.target.begin(), r.target.end())};
                 }).release_value();
    }
    std::vector<std::string> seen()
    {
        std::lock_guard lock(mutex);
        return names;
    }

    std::mutex mutex;
    std::vector<std::string> names;
    std::unique_ptr<HttpServer> server;
};

// Connects with tls_connect_checked, sends GET `target` and returns the response's text.
Result<std::string> get(uint16_t port, const std::string& server_name, const PeerCertificateCheck& check,
                        const std::string& target = "/hello")
{
    IoTimeouts timeouts{2000, Deadline::after_ms(5000)};
    UniqueFd fd = TRY(tcp_connect("127.0.0.1", port, 2000, timeouts.deadline));
    auto stream = TRY(tls_connect_checked(std::move(fd), server_name, "127.0.0.1", check, timeouts));
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    TRY(stream->write_all(as_bytes(request)));
    std::string response;
    uint8_t buf[4096];
    for (;;) {
        size_t n = TRY(stream->read_some(buf));
        if (n == 0)
            break;
        response.append(reinterpret_cast<const char*>(buf), n);
    }
    return response;
}

}  // namespace

TEST_CASE("tls_connect_checked: the check sees the server's certificate and alone decides trust")
{
    test::TlsFiles files;  // a certificate from a CA the client does not know
    ServerOptions o = files.server_options();
    auto server = HttpServer::start(o, [](const HttpRequest&) {
                      return HttpResponse{200, {}, Bytes{'o', 'k'}};
                  }).release_value();
    Bytes leaf = der_of(read_text_file(files.cert_file, 1 << 20).value());  // the chain's first: the leaf
    Bytes seen;
    int calls = 0;
    auto accept_all = [&](ByteView der) -> Result<void> {
        ++calls;
        seen.assign(der.begin(), der.end());
        return {};
    };
    auto r = get(server->port(), "", accept_all);
    REQUIRE(r.ok());
    CHECK(r.value().find("200") != std::string::npos);
    CHECK(calls == 1);
    CHECK(seen == leaf);  // the server's own certificate, not the CA that follows it

    SUBCASE("a refusal aborts the handshake and comes back as it was")
    {
        auto refuse = [](ByteView) -> Result<void> { return Error::make(Errc::Chain, "not this one"); };
        auto refused = get(server->port(), "", refuse);
        REQUIRE(!refused.ok());
        CHECK(refused.error().code() == Errc::Chain);
        CHECK(refused.error().message() == "not this one");
    }
}

TEST_CASE("selecting server: each handshake's certificate comes from its SNI")
{
    fakes::TestPki pki;
    fakes::PemIdentity own = pki.issue("own"), other = pki.issue("other");
    Bytes own_der = der_of(own.cert), other_der = der_of(other.cert);
    SelectingServer s(own, [&](std::string_view name) -> Result<Bytes> {
        if (name == "bad.example")
            return Error::make(Errc::Format, "not a name this server serves");
        if (name == "down.example")
            return Error::make(Errc::Unavailable, "the certificate source is down");
        if (name == "other-key.example")
            return other_der;
        if (name == "pem.example")
            return Bytes(own.cert.begin(), own.cert.end());
        return own_der;
    });
    const uint16_t port = s.server->port();
    Bytes seen;
    auto record = [&](ByteView der) -> Result<void> {
        seen.assign(der.begin(), der.end());
        return {};
    };

    SUBCASE("no SNI: the selector gets an empty name")
    {
        auto r = get(port, "", record);
        REQUIRE(r.ok());
        CHECK(r.value().find("/hello") != std::string::npos);
        CHECK(s.seen() == std::vector<std::string>{""});
        CHECK(seen == own_der);
    }
    SUBCASE("a name: the selector gets it, once per handshake")
    {
        REQUIRE(get(port, "abc.nonce.example", record).ok());
        REQUIRE(get(port, "xyz.nonce.example", record).ok());
        CHECK(s.seen() == std::vector<std::string>{"abc.nonce.example", "xyz.nonce.example"});
        CHECK(seen == own_der);
    }
    SUBCASE("a PEM answer serves too")
    {
        REQUIRE(get(port, "pem.example", record).ok());
        CHECK(seen == own_der);
    }
    SUBCASE("refused names, failing sources and certificates of another key end the handshake")
    {
        for (const char* name : {"bad.example", "down.example", "other-key.example"}) {
            CAPTURE(name);
            seen.clear();
            auto r = get(port, name, record);
            CHECK(!r.ok());
            CHECK(seen.empty());  // no certificate reached the client
        }
        CHECK(get(port, "fine.example", record).ok());  // and the server still serves
    }
}

TEST_CASE("selecting server: a key that does not parse is a configuration error")
{
    auto context = TlsServerContext::create_selecting(SecretBytes::copy_of(as_bytes(std::string("not a key"))),
                                                      [](std::string_view) -> Result<Bytes> { return Bytes(); });
    REQUIRE(!context.ok());
    CHECK(context.error().code() == Errc::Config);
}

TEST_CASE("an HTTP server takes TLS files or a TLS context, not both")
{
    test::TlsFiles files;
    fakes::PemIdentity own = files.pki.issue("own");
    ServerOptions o = files.server_options();
    o.tls_context = TlsServerContext::create_selecting(SecretBytes::copy_of(as_bytes(own.key)),
                                                       [](std::string_view) -> Result<Bytes> { return Bytes(); })
                        .release_value();
    auto server = HttpServer::start(o, [](const HttpRequest&) { return HttpResponse{200, {}, {}}; });
    REQUIRE(!server.ok());
    CHECK(server.error().code() == Errc::Config);
}
