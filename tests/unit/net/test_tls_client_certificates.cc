// Mutual TLS in lib/net: a server that asks for client certificates without trusting any CA
// (ClientCertificates::Optional), the handler seeing the certificate the client proved it holds,
// and the client presenting one (TlsClientIdentity).
#include <doctest.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>
#include <sys/socket.h>

#include <atomic>
#include <memory>
#include <string>

#include "net/http_client.h"
#include "net/http_server.h"
#include "tls_fixture.h"

using namespace cvm;
using namespace cvm::net;
using test::TlsFiles;

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

std::shared_ptr<const TlsClientIdentity> identity_of(const fakes::PemIdentity& id)
{
    auto out = std::make_shared<TlsClientIdentity>();
    out->cert_der = der_of(id.cert);
    out->key_pem = SecretBytes::copy_of(as_bytes(id.key));
    return out;
}

// A server whose handler records the certificate each request came with.
struct CertServer {
    explicit CertServer(const TlsFiles& files, ClientCertificates clients = ClientCertificates::Optional)
    {
        ServerOptions o = files.server_options();
        o.client_certificates = clients;
        server = HttpServer::start(o, [this](const HttpRequest& r) {
                     ++requests;
                     seen = r.peer_certificate;
                     return HttpResponse{200, {{"Content-Type", "text/plain"}}, Bytes{'o', 'k'}};
                 }).release_value();
    }
    std::string url() const { return "https://127.0.0.1:" + std::to_string(server->port()) + "/"; }

    std::unique_ptr<HttpServer> server;
    std::atomic<int> requests{0};
    Bytes seen;  // written on the connection thread before the answer is sent
};

// mbedtls_net_send uses write(): a server that hung up after refusing the handshake would raise SIGPIPE.
int send_nosignal(void* ctx, const unsigned char* buf, size_t len)
{
    ssize_t n = ::send(static_cast<mbedtls_net_context*>(ctx)->fd, buf, len, MSG_NOSIGNAL);
    return n >= 0 ? static_cast<int>(n) : MBEDTLS_ERR_NET_SEND_FAILED;
}

// A bare mbedTLS client that presents `cert_pem` with `key_pem`, whether or not they belong
// together (net::tls_connect refuses a pair that does not): returns the handshake's result.
int raw_handshake(uint16_t port, const std::string& cert_pem, const std::string& key_pem, uint16_t max_version)
{
    mbedtls_net_context net;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_net_init(&net);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_x509_crt_init(&cert);
    mbedtls_pk_init(&key);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    REQUIRE(psa_crypto_init() == PSA_SUCCESS);
    REQUIRE(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0) == 0);
    REQUIRE(mbedtls_x509_crt_parse(&cert, reinterpret_cast<const unsigned char*>(cert_pem.c_str()),
                                   cert_pem.size() + 1) == 0);
    REQUIRE(mbedtls_pk_parse_key(&key, reinterpret_cast<const unsigned char*>(key_pem.c_str()), key_pem.size() + 1,
                                 nullptr, 0, mbedtls_ctr_drbg_random, &drbg) == 0);
    REQUIRE(mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT) == 0);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);  // the server's identity is not the point
    mbedtls_ssl_conf_max_tls_version(&conf, static_cast<mbedtls_ssl_protocol_version>(max_version));
    mbedtls_ssl_conf_read_timeout(&conf, 3000);
    REQUIRE(mbedtls_ssl_conf_own_cert(&conf, &cert, &key) == 0);
    REQUIRE(mbedtls_ssl_setup(&ssl, &conf) == 0);
    REQUIRE(mbedtls_net_connect(&net, "127.0.0.1", std::to_string(port).c_str(), MBEDTLS_NET_PROTO_TCP) == 0);
    mbedtls_ssl_set_bio(&ssl, &net, send_nosignal, nullptr, mbedtls_net_recv_timeout);
    int rc = mbedtls_ssl_handshake(&ssl);
    if (rc == 0) {  // TLS 1.3: the server reads the client's Finished only with the first record after it
        const char request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        rc = mbedtls_ssl_write(&ssl, reinterpret_cast<const unsigned char*>(request), sizeof request - 1);
        unsigned char buf[512];
        rc = rc < 0 ? rc : mbedtls_ssl_read(&ssl, buf, sizeof buf);
        rc = rc > 0 ? 0 : rc;
    }
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&cert);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    mbedtls_net_free(&net);
    return rc;
}

}  // namespace

TEST_CASE("mutual TLS: the handler sees exactly the certificate the client presented")
{
    TlsFiles files;
    CertServer s(files);
    fakes::PemIdentity client = files.pki.issue("cvminit test client");
    HttpOptions o = files.client_options();
    o.client_identity = identity_of(client);
    auto r = http_get(s.url(), o);
    REQUIRE_MESSAGE(r.ok(), std::string(r.ok() ? "" : r.error().message()));
    CHECK(r->status == 200);
    CHECK(s.seen == der_of(client.cert));
}

TEST_CASE("mutual TLS: a certificate no CA vouches for is still handed over: trust is the handler's")
{
    TlsFiles files;
    CertServer s(files);
    fakes::TestPki stranger;  // another CA, unknown to the server (which knows none)
    fakes::PemIdentity client = stranger.issue("someone else");
    HttpOptions o = files.client_options();
    o.client_identity = identity_of(client);
    auto r = http_get(s.url(), o);
    REQUIRE(r.ok());
    CHECK(s.seen == der_of(client.cert));
}

TEST_CASE("mutual TLS: a client without a certificate is served, and the handler sees none")
{
    TlsFiles files;
    CertServer s(files);
    auto r = http_get(s.url(), files.client_options());
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(s.requests == 1);
    CHECK(s.seen.empty());
}

TEST_CASE("mutual TLS: a server that does not ask gets no certificate")
{
    TlsFiles files;
    CertServer s(files, ClientCertificates::NotRequested);
    HttpOptions o = files.client_options();
    o.client_identity = identity_of(files.pki.issue("cvminit test client"));
    auto r = http_get(s.url(), o);
    REQUIRE(r.ok());
    CHECK(s.requests == 1);
    CHECK(s.seen.empty());
}

TEST_CASE("mutual TLS: the handshake proves possession: a certificate with someone else's key never reaches the "
          "handler")
{
    TlsFiles files;
    CertServer s(files);
    fakes::PemIdentity client = files.pki.issue("cvminit test client");
    std::string other_key = files.pki.stray_key();
    for (uint16_t version : {test::TLS_1_2, test::TLS_1_3}) {
        CAPTURE(version);
        CHECK(raw_handshake(s.server->port(), client.cert, client.key, version) == 0);  // the control
        int rc = raw_handshake(s.server->port(), client.cert, other_key, version);
        CHECK(rc != 0);
    }
    CHECK(s.requests == 2);  // only the two controls
}

TEST_CASE("mutual TLS: a client identity that does not parse or whose key is not its certificate's is refused "
          "before connecting, without the key in the message")
{
    TlsFiles files;
    CertServer s(files);
    fakes::PemIdentity client = files.pki.issue("cvminit test client");
    HttpOptions o = files.client_options();

    auto mismatched = std::make_shared<TlsClientIdentity>();
    mismatched->cert_der = der_of(client.cert);
    std::string stray = files.pki.stray_key();
    mismatched->key_pem = SecretBytes::copy_of(as_bytes(stray));
    o.client_identity = mismatched;
    auto r = http_get(s.url(), o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Config);
    std::string message(r.error().message());
    CHECK(message.find("does not belong to its certificate") != std::string::npos);
    CHECK(message.find("PRIVATE KEY") == std::string::npos);

    auto bad_cert = std::make_shared<TlsClientIdentity>();
    bad_cert->cert_der = der_of(client.cert);
    bad_cert->cert_der.resize(bad_cert->cert_der.size() - 1);
    bad_cert->key_pem = SecretBytes::copy_of(as_bytes(client.key));
    o.client_identity = bad_cert;
    r = http_get(s.url(), o);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("client certificate does not parse") != std::string::npos);

    auto bad_key = std::make_shared<TlsClientIdentity>();
    bad_key->cert_der = der_of(client.cert);
    bad_key->key_pem = SecretBytes::copy_of(as_bytes(std::string("-----BEGIN EC PRIVATE KEY-----\nAAAA\n")));
    o.client_identity = bad_key;
    r = http_get(s.url(), o);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.error().message()).find("client key does not parse") != std::string::npos);
    CHECK(s.requests == 0);
}
