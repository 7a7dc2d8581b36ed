#include "tls_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/file.h"
#include "test_pki.h"

namespace cvm::fakes {

namespace {

void check(int rc, const char* what)
{
    if (rc < 0) {
        fprintf(stderr, "TlsServer: %s failed: -0x%04x\n", what, static_cast<unsigned>(-rc));
        abort();
    }
}

// mbedtls_net_send uses write(): a client that hung up would raise SIGPIPE.
int send_nosignal(void* ctx, const unsigned char* buf, size_t len)
{
    ssize_t n = send(static_cast<mbedtls_net_context*>(ctx)->fd, buf, len, MSG_NOSIGNAL);
    return n >= 0 ? static_cast<int>(n) : MBEDTLS_ERR_NET_SEND_FAILED;
}

}  // namespace

struct TlsServer::Tls {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context server_key;
    mbedtls_x509_crt server_cert;
    mbedtls_ssl_config conf;

    Tls()
    {
        mbedtls_entropy_init(&entropy);
        mbedtls_ctr_drbg_init(&drbg);
        mbedtls_pk_init(&server_key);
        mbedtls_x509_crt_init(&server_cert);
        mbedtls_ssl_config_init(&conf);
        check(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0), "drbg seed");
    }
    ~Tls()
    {
        mbedtls_ssl_config_free(&conf);
        mbedtls_x509_crt_free(&server_cert);
        mbedtls_pk_free(&server_key);
        mbedtls_ctr_drbg_free(&drbg);
        mbedtls_entropy_free(&entropy);
    }
};

TlsServer::TlsServer(std::string reply) : m_reply(std::move(reply)), m_tls(std::make_unique<Tls>()) {}

std::unique_ptr<TlsServer> TlsServer::start(std::string reply, const std::string& ca_file)
{
    std::unique_ptr<TlsServer> s(new TlsServer(std::move(reply)));
    Tls& tls = *s->m_tls;
    TestPki pki;
    PemIdentity server = pki.issue("127.0.0.1");
    if (!write_file_atomic(ca_file, as_bytes(pki.ca_pem())).ok())
        abort();
    check(mbedtls_x509_crt_parse(&tls.server_cert, reinterpret_cast<const unsigned char*>(server.cert.c_str()),
                                 server.cert.size() + 1),
          "parse server certificate");
    check(mbedtls_pk_parse_key(&tls.server_key, reinterpret_cast<const unsigned char*>(server.key.c_str()),
                               server.key.size() + 1, nullptr, 0, mbedtls_ctr_drbg_random, &tls.drbg),
          "parse server key");
    check(mbedtls_ssl_config_defaults(&tls.conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT),
          "config");
    mbedtls_ssl_conf_rng(&tls.conf, mbedtls_ctr_drbg_random, &tls.drbg);
    mbedtls_ssl_conf_max_tls_version(&tls.conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_read_timeout(&tls.conf, 2000);
    check(mbedtls_ssl_conf_own_cert(&tls.conf, &tls.server_cert, &tls.server_key), "own certificate");

    s->m_listen.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int fds[2];
    if (!s->m_listen.valid() || bind(s->m_listen.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(s->m_listen.get(), 16) != 0 ||
        getsockname(s->m_listen.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0 || pipe2(fds, O_CLOEXEC) != 0)
        abort();
    s->m_port = ntohs(addr.sin_port);
    s->m_wake_read.reset(fds[0]);
    s->m_wake_write.reset(fds[1]);
    TlsServer* raw = s.get();
    s->m_thread = std::thread([raw] { raw->loop(); });
    return s;
}

TlsServer::~TlsServer()
{
    [[maybe_unused]] ssize_t n = write(m_wake_write.get(), "x", 1);
    m_thread.join();
}

void TlsServer::loop()
{
    for (;;) {
        pollfd fds[2] = {{m_wake_read.get(), POLLIN, 0}, {m_listen.get(), POLLIN, 0}};
        if (poll(fds, 2, -1) < 0 || fds[0].revents)
            return;
        UniqueFd fd(accept4(m_listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!fd.valid())
            continue;
        mbedtls_net_context net{fd.get()};
        mbedtls_ssl_context ssl;
        mbedtls_ssl_init(&ssl);
        if (mbedtls_ssl_setup(&ssl, &m_tls->conf) == 0) {
            mbedtls_ssl_set_bio(&ssl, &net, send_nosignal, nullptr, mbedtls_net_recv_timeout);
            std::string request;
            unsigned char buf[1024];
            if (mbedtls_ssl_handshake(&ssl) == 0) {
                while (request.find("\r\n\r\n") == std::string::npos) {
                    int n = mbedtls_ssl_read(&ssl, buf, sizeof buf);
                    if (n <= 0)
                        break;
                    request.append(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
                }
                mbedtls_ssl_write(&ssl, reinterpret_cast<const unsigned char*>(m_reply.data()), m_reply.size());
                mbedtls_ssl_close_notify(&ssl);
            }
        }
        mbedtls_ssl_free(&ssl);
    }
}

}  // namespace cvm::fakes
