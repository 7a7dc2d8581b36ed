// The workload's RA-TLS HTTPS server (ratls/https_server.h): which certificate each handshake gets
// from the source, told apart by the client's SNI. The certificates are ordinary test ones: the
// server never looks inside them; what RA-TLS verification makes of them is cvm attest's business
// (tests/blackbox/cvm_attest.sh).
#include <doctest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "net/io.h"
#include "net/tls.h"
#include "ratls/https_server.h"
#include "ratls/sni_nonce.h"
#include "test_pki.h"

using namespace cvm;

namespace {

struct Fixture {
    explicit Fixture(int64_t reuse_seconds = 600)
    {
        fakes::PemIdentity id = pki.issue("workload");
        cert = Bytes(id.cert.begin(), id.cert.end());
        ratls::HttpsServerOptions options;
        options.http.io_timeout_ms = 2000;
        options.unbound_reuse_seconds = reuse_seconds;
        auto started = ratls::start_https_server(
            options, SecretBytes::copy_of(as_bytes(id.key)),
            [this](ByteView nonce) -> Result<Bytes> {
                std::lock_guard lock(mutex);
                asked.emplace_back(nonce.begin(), nonce.end());
                if (fail)
                    return Error::make(Errc::Unavailable, "the agent is busy");
                return cert;
            },
            [](const net::HttpRequest&) {
                return net::HttpResponse{200, {}, Bytes{'o', 'k'}};
            });
        REQUIRE(started.ok());
        server = started.release_value();
    }

    // One handshake with `server_name` as SNI; true when it completed.
    bool handshake(const std::string& server_name)
    {
        net::IoTimeouts timeouts{2000, net::Deadline::after_ms(5000)};
        auto fd = net::tcp_connect("127.0.0.1", server->port(), 2000, timeouts.deadline);
        REQUIRE(fd.ok());
        auto stream = net::tls_connect_checked(
            fd.release_value(), server_name, "127.0.0.1", [](ByteView) -> Result<void> { return {}; }, timeouts);
        return stream.ok();
    }

    std::vector<Bytes> calls()
    {
        std::lock_guard lock(mutex);
        return asked;
    }

    fakes::TestPki pki;
    Bytes cert;
    std::mutex mutex;
    std::vector<Bytes> asked;
    std::atomic<bool> fail{false};
    std::unique_ptr<net::HttpServer> server;
};

Bytes nonce_of(uint8_t fill, size_t n = 16)
{
    return Bytes(n, fill);
}

}  // namespace

TEST_CASE("ra-tls server: each nonce handshake asks the source for that nonce")
{
    Fixture f;
    REQUIRE(f.handshake(ratls::sni_for_nonce(nonce_of(1)).value()));
    REQUIRE(f.handshake(ratls::sni_for_nonce(nonce_of(2, 32)).value()));
    REQUIRE(f.handshake(ratls::sni_for_nonce(nonce_of(1)).value()));  // the same nonce: asked again
    CHECK(f.calls() == std::vector<Bytes>{nonce_of(1), nonce_of(2, 32), nonce_of(1)});
}

TEST_CASE("ra-tls server: handshakes without a nonce share one certificate")
{
    Fixture f;
    REQUIRE(f.handshake(""));
    REQUIRE(f.handshake("workload.example"));  // an ordinary name is no nonce
    REQUIRE(f.handshake(""));
    CHECK(f.calls() == std::vector<Bytes>{Bytes()});

    SUBCASE("until it is older than unbound_reuse_seconds")
    {
        Fixture zero(0);
        REQUIRE(zero.handshake(""));
        REQUIRE(zero.handshake(""));
        CHECK(zero.calls() == std::vector<Bytes>{Bytes(), Bytes()});
    }
}

TEST_CASE("ra-tls server: a malformed nonce name is refused without asking the source")
{
    Fixture f;
    CHECK(!f.handshake("m.nonce.ra-tls.invalid"));
    CHECK(!f.handshake("mz.nonce.ra-tls.invalid"));
    CHECK(f.calls().empty());
    CHECK(f.handshake(""));  // and the server still serves
}

TEST_CASE("ra-tls server: a failing source fails that handshake only, and is asked again next time")
{
    Fixture f;
    f.fail = true;
    CHECK(!f.handshake(""));
    CHECK(!f.handshake(ratls::sni_for_nonce(nonce_of(7)).value()));
    f.fail = false;
    CHECK(f.handshake(""));
    CHECK(f.calls().size() == 3);  // a failure is not cached
}

TEST_CASE("ra-tls server: options with TLS of their own are refused")
{
    fakes::TestPki pki;
    fakes::PemIdentity id = pki.issue("workload");
    ratls::HttpsServerOptions options;
    options.http.tls = net::TlsServerFiles{"cert.pem", "key.pem"};
    auto started = ratls::start_https_server(
        options, SecretBytes::copy_of(as_bytes(id.key)), [](ByteView) -> Result<Bytes> { return Bytes(); },
        [](const net::HttpRequest&) {
            return net::HttpResponse{200, {}, {}};
        });
    REQUIRE(!started.ok());
    CHECK(started.error().code() == Errc::Config);
}
