#include "tls_fixture.h"

#include <doctest.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>
#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>

#include "base/file.h"

namespace cvm::test {

namespace {

// mbedtls_net_send uses write(): a server that hung up would raise SIGPIPE.
int send_nosignal(void* ctx, const unsigned char* buf, size_t len)
{
    ssize_t n = ::send(static_cast<mbedtls_net_context*>(ctx)->fd, buf, len, MSG_NOSIGNAL);
    return n >= 0 ? static_cast<int>(n) : MBEDTLS_ERR_NET_SEND_FAILED;
}

}  // namespace

TlsFiles::TlsFiles(fakes::KeyKind kind)
{
    char tmpl[] = "/tmp/cvm-net-tls-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    fakes::PemIdentity server = pki.issue("cvminit test server", "127.0.0.1", kind);
    ca_file = write("ca.pem", pki.ca_pem());
    cert_file = write("chain.pem", server.cert + pki.ca_pem());
    key_file = write("key.pem", server.key);
}

TlsFiles::~TlsFiles()
{
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
}

std::string TlsFiles::write(const std::string& name, const std::string& content) const
{
    std::string path = dir + "/" + name;
    REQUIRE(write_file_atomic(path, as_bytes(content), 0600).ok());
    return path;
}

net::ServerOptions TlsFiles::server_options() const
{
    net::ServerOptions o;
    o.tls = server_files();
    o.io_timeout_ms = 1000;
    o.request_timeout_ms = 3000;
    return o;
}

net::HttpOptions TlsFiles::client_options() const
{
    net::HttpOptions o;
    o.ca_file = ca_file;
    o.connect_timeout_ms = 1000;
    o.io_timeout_ms = 2000;
    o.total_timeout_ms = 5000;
    return o;
}

struct RawTlsClient::State {
    mbedtls_net_context net;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;

    State()
    {
        mbedtls_net_init(&net);
        mbedtls_entropy_init(&entropy);
        mbedtls_ctr_drbg_init(&drbg);
        mbedtls_x509_crt_init(&ca);
        mbedtls_ssl_config_init(&conf);
        mbedtls_ssl_init(&ssl);
    }
    ~State()
    {
        mbedtls_ssl_free(&ssl);
        mbedtls_ssl_config_free(&conf);
        mbedtls_x509_crt_free(&ca);
        mbedtls_ctr_drbg_free(&drbg);
        mbedtls_entropy_free(&entropy);
        mbedtls_net_free(&net);
    }
};

RawTlsClient::RawTlsClient(uint16_t port, const std::string& ca_file, uint16_t max_version)
        : m_state(std::make_unique<State>())
{
    State& s = *m_state;
    REQUIRE(psa_crypto_init() == PSA_SUCCESS);
    REQUIRE(mbedtls_ctr_drbg_seed(&s.drbg, mbedtls_entropy_func, &s.entropy, nullptr, 0) == 0);
    REQUIRE(mbedtls_x509_crt_parse_file(&s.ca, ca_file.c_str()) == 0);
    REQUIRE(mbedtls_ssl_config_defaults(&s.conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT) == 0);
    mbedtls_ssl_conf_rng(&s.conf, mbedtls_ctr_drbg_random, &s.drbg);
    mbedtls_ssl_conf_authmode(&s.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&s.conf, &s.ca, nullptr);
    mbedtls_ssl_conf_max_tls_version(&s.conf, static_cast<mbedtls_ssl_protocol_version>(max_version));
    mbedtls_ssl_conf_read_timeout(&s.conf, 3000);
    REQUIRE(mbedtls_ssl_setup(&s.ssl, &s.conf) == 0);
    REQUIRE(mbedtls_ssl_set_hostname(&s.ssl, "127.0.0.1") == 0);
    REQUIRE(mbedtls_net_connect(&s.net, "127.0.0.1", std::to_string(port).c_str(), MBEDTLS_NET_PROTO_TCP) == 0);
    mbedtls_ssl_set_bio(&s.ssl, &s.net, send_nosignal, nullptr, mbedtls_net_recv_timeout);
    int rc = mbedtls_ssl_handshake(&s.ssl);
    REQUIRE_MESSAGE(rc == 0, "handshake: -0x" << std::hex << -rc);
}

RawTlsClient::~RawTlsClient() = default;

uint16_t RawTlsClient::version() const
{
    return static_cast<uint16_t>(mbedtls_ssl_get_version_number(&m_state->ssl));
}

void RawTlsClient::send(std::string_view data)
{
    int rc = mbedtls_ssl_write(&m_state->ssl, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    REQUIRE(rc == static_cast<int>(data.size()));
}

std::string RawTlsClient::read_all(bool* close_notify)
{
    std::string out;
    unsigned char buf[4096];
    int rc;
    while ((rc = mbedtls_ssl_read(&m_state->ssl, buf, sizeof buf)) > 0 ||
           rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        out.append(reinterpret_cast<const char*>(buf), rc > 0 ? static_cast<size_t>(rc) : 0);
    if (close_notify)
        *close_notify = rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY;
    return out;
}

}  // namespace cvm::test
