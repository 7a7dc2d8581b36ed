#include "net/tls_stream.h"

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <psa/crypto.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace cvm::net {

std::string mbedtls_reason(int rc)
{
    char buf[128];
    mbedtls_strerror(rc, buf, sizeof buf);
    return buf;
}

TlsConfig::TlsConfig()
{
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_x509_crt_init(&chain);
    mbedtls_x509_crt_init(&own);
    mbedtls_pk_init(&key);
    mbedtls_ssl_config_init(&conf);
}

TlsConfig::~TlsConfig()
{
    mbedtls_ssl_config_free(&conf);
    mbedtls_pk_free(&key);  // wipes the private key
    mbedtls_x509_crt_free(&own);
    mbedtls_x509_crt_free(&chain);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
}

Result<void> TlsConfig::prepare(int endpoint)
{
    // psa_crypto_init is thread-safe with MBEDTLS_THREADING_C, but its result is wanted once.
    static std::once_flag psa_once;
    static psa_status_t psa_status;
    std::call_once(psa_once, [] { psa_status = psa_crypto_init(); });
    if (psa_status != PSA_SUCCESS)
        return Error::make(Errc::Network, "cannot initialise PSA crypto for TLS (%d)", static_cast<int>(psa_status));

    static const char personalization[] = "cvminit net tls";
    int rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                   reinterpret_cast<const unsigned char*>(personalization), sizeof personalization - 1);
    if (rc != 0)
        return Error::make(Errc::Network, "cannot seed the TLS random generator: %s", mbedtls_reason(rc).c_str());
    rc = mbedtls_ssl_config_defaults(&conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0)
        return Error::make(Errc::Network, "cannot configure TLS: %s", mbedtls_reason(rc).c_str());
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_min_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_2);  // the maximum stays TLS 1.3
    return {};
}

TlsStream::TlsStream(UniqueFd fd, std::string peer, const IoTimeouts& timeouts, std::unique_ptr<TlsConfig> owned)
        : m_fd(std::move(fd)), m_peer(std::move(peer)), m_timeouts(timeouts), m_owned_config(std::move(owned))
{
    mbedtls_ssl_init(&m_ssl);
    mbedtls_x509_crt_init(&m_selected_cert);
}

TlsStream::~TlsStream()
{
    mbedtls_ssl_free(&m_ssl);  // before the owned config and the selected certificate it points at
    mbedtls_x509_crt_free(&m_selected_cert);
}

Result<void> TlsStream::setup(const TlsConfig& config)
{
    int rc = mbedtls_ssl_setup(&m_ssl, &config.conf);
    if (rc != 0)
        return Error::make(Errc::Network, "cannot set up TLS for %s: %s", m_peer.c_str(), mbedtls_reason(rc).c_str());
    mbedtls_ssl_set_bio(&m_ssl, this, bio_send, bio_recv, nullptr);
    mbedtls_ssl_set_user_data_p(&m_ssl, this);
    return {};
}

int TlsStream::bio_send(void* ctx, const unsigned char* buf, size_t len)
{
    auto* s = static_cast<TlsStream*>(ctx);
    auto r = socket_write_all(s->m_fd.get(), ByteView(buf, len), s->m_timeouts, s->m_peer);
    if (!r.ok()) {
        s->m_io_error = r.release_error();
        s->m_have_io_error = true;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return static_cast<int>(len);
}

int TlsStream::bio_recv(void* ctx, unsigned char* buf, size_t len)
{
    auto* s = static_cast<TlsStream*>(ctx);
    auto r = socket_read(s->m_fd.get(), std::span<uint8_t>(buf, len), s->m_timeouts, s->m_peer);
    if (!r.ok()) {
        s->m_io_error = r.release_error();
        s->m_have_io_error = true;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return static_cast<int>(r.value());
}

Error TlsStream::io_error(int rc, const char* what)
{
    if (m_have_io_error)
        return m_io_error;
    return Error::make(Errc::Network, "TLS %s %s failed: %s (-0x%04x)", what, m_peer.c_str(),
                       mbedtls_reason(rc).c_str(), static_cast<unsigned>(-rc));
}

int TlsStream::handshake()
{
    clear_io_error();
    int rc;
    while ((rc = mbedtls_ssl_handshake(&m_ssl)) == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
    }
    return rc;
}

Error TlsStream::handshake_error(int rc)
{
    // A server with all connection slots busy closes without a word; an orderly close before the
    // handshake is through is as retryable as a reset.
    if (rc == MBEDTLS_ERR_SSL_CONN_EOF && !m_have_io_error)
        return Error::make(Errc::Unavailable, "TLS handshake with %s failed: the peer closed the connection",
                           m_peer.c_str());
    return io_error(rc, "handshake with");
}

Result<size_t> TlsStream::read_some(std::span<uint8_t> buffer)
{
    clear_io_error();
    for (;;) {
        int rc = mbedtls_ssl_read(&m_ssl, buffer.data(), buffer.size());
        if (rc >= 0)
            return static_cast<size_t>(rc);
        if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
            return size_t{0};
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE ||
            rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            continue;
        return io_error(rc, "read from");
    }
}

Result<void> TlsStream::write_all(ByteView data)
{
    clear_io_error();
    size_t done = 0;
    while (done < data.size()) {
        int rc = mbedtls_ssl_write(&m_ssl, data.data() + done, data.size() - done);
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (rc < 0)
            return io_error(rc, "write to");
        done += static_cast<size_t>(rc);
    }
    return {};
}

Bytes TlsStream::peer_certificate() const
{
    // Kept after the handshake because MBEDTLS_SSL_KEEP_PEER_CERTIFICATE is on (mbedTLS's default).
    const mbedtls_x509_crt* cert = mbedtls_ssl_get_peer_cert(&m_ssl);
    if (cert == nullptr || cert->raw.p == nullptr)
        return {};
    return Bytes(cert->raw.p, cert->raw.p + cert->raw.len);
}

Result<void> TlsStream::close_write()
{
    // RFC 8446 §6.1: "Each party MUST send a "close_notify" alert before closing its write side of
    // the connection, unless it has already sent some error alert."
    clear_io_error();
    int rc;
    while ((rc = mbedtls_ssl_close_notify(&m_ssl)) == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
    }
    if (rc != 0)
        return io_error(rc, "close_notify to");
    if (shutdown(m_fd.get(), SHUT_WR) != 0)
        return Error::from_errno(Errc::Network, errno, "cannot shut down writing to %s: %s", m_peer.c_str(),
                                 strerror(errno));
    return {};
}

}  // namespace cvm::net
