#include "net/tls.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace cvm::net {

namespace {

#if !defined(MBEDTLS_THREADING_C)
std::mutex g_tls_mutex;  // see tls.h: one TLS exchange at a time without MBEDTLS_THREADING_C
#endif

std::string mbedtls_reason(int rc)
{
    char buf[128];
    mbedtls_strerror(rc, buf, sizeof buf);
    return buf;
}

// Owns every mbedTLS context of one connection. Not movable: the contexts point at each other.
class TlsStream final : public Stream {
public:
    TlsStream(UniqueFd fd, std::string peer, const IoTimeouts& timeouts)
            : m_fd(std::move(fd)), m_peer(std::move(peer)), m_timeouts(timeouts)
    {
        mbedtls_ssl_init(&m_ssl);
        mbedtls_ssl_config_init(&m_conf);
        mbedtls_x509_crt_init(&m_ca);
        mbedtls_ctr_drbg_init(&m_drbg);
        mbedtls_entropy_init(&m_entropy);
    }
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;
    ~TlsStream() override
    {
        mbedtls_ssl_free(&m_ssl);
        mbedtls_ssl_config_free(&m_conf);
        mbedtls_x509_crt_free(&m_ca);
        mbedtls_ctr_drbg_free(&m_drbg);
        mbedtls_entropy_free(&m_entropy);
    }

    Result<void> handshake(const std::string& host, const std::string& ca_file);
    Result<size_t> read_some(std::span<uint8_t> buffer) override;
    Result<void> write_all(ByteView data) override;

private:
    static int bio_send(void* ctx, const unsigned char* buf, size_t len);
    static int bio_recv(void* ctx, unsigned char* buf, size_t len);
    Error io_error(int rc, const char* what);

#if !defined(MBEDTLS_THREADING_C)
    std::lock_guard<std::mutex> m_lock{g_tls_mutex};
#endif
    UniqueFd m_fd;
    std::string m_peer;
    IoTimeouts m_timeouts;
    mbedtls_ssl_context m_ssl;
    mbedtls_ssl_config m_conf;
    mbedtls_x509_crt m_ca;
    mbedtls_ctr_drbg_context m_drbg;
    mbedtls_entropy_context m_entropy;
    Error m_io_error{};  // the socket-level cause behind an MBEDTLS_ERR_NET_* result
    bool m_have_io_error{false};
};

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

Result<void> TlsStream::handshake(const std::string& host, const std::string& ca_file)
{
    static std::once_flag psa_once;
    static psa_status_t psa_status;
    std::call_once(psa_once, [] { psa_status = psa_crypto_init(); });  // TLS 1.3 needs PSA
    if (psa_status != PSA_SUCCESS)
        return Error::make(Errc::Network, "cannot initialise PSA crypto for TLS (%d)", static_cast<int>(psa_status));

    int rc = mbedtls_x509_crt_parse_file(&m_ca, ca_file.c_str());
    if (rc < 0)
        return Error::make(Errc::Config, "cannot load the CA bundle %s: %s", ca_file.c_str(),
                           mbedtls_reason(rc).c_str());
    static const char personalization[] = "cvminit net tls";
    rc = mbedtls_ctr_drbg_seed(&m_drbg, mbedtls_entropy_func, &m_entropy,
                               reinterpret_cast<const unsigned char*>(personalization), sizeof personalization - 1);
    if (rc != 0)
        return Error::make(Errc::Network, "cannot seed the TLS random generator: %s", mbedtls_reason(rc).c_str());
    rc = mbedtls_ssl_config_defaults(&m_conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                     MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0)
        return Error::make(Errc::Network, "cannot configure TLS: %s", mbedtls_reason(rc).c_str());
    mbedtls_ssl_conf_authmode(&m_conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&m_conf, &m_ca, nullptr);
    mbedtls_ssl_conf_rng(&m_conf, mbedtls_ctr_drbg_random, &m_drbg);
    mbedtls_ssl_conf_min_tls_version(&m_conf, MBEDTLS_SSL_VERSION_TLS1_2);
    if ((rc = mbedtls_ssl_setup(&m_ssl, &m_conf)) != 0 || (rc = mbedtls_ssl_set_hostname(&m_ssl, host.c_str())) != 0)
        return Error::make(Errc::Network, "cannot set up TLS for %s: %s", m_peer.c_str(), mbedtls_reason(rc).c_str());
    mbedtls_ssl_set_bio(&m_ssl, this, bio_send, bio_recv, nullptr);

    while ((rc = mbedtls_ssl_handshake(&m_ssl)) != 0) {
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        uint32_t flags = mbedtls_ssl_get_verify_result(&m_ssl);
        if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != 0) {
            char info[160];
            int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
            std::string reasons(info, n > 0 ? static_cast<size_t>(n) : 0);  // one line per flag
            while (!reasons.empty() && reasons.back() == '\n')
                reasons.pop_back();
            std::replace(reasons.begin(), reasons.end(), '\n', ';');
            return Error::make(Errc::Network, "TLS certificate of %s does not verify: %s", m_peer.c_str(),
                               reasons.c_str());
        }
        return io_error(rc, "handshake with");
    }
    return {};
}

Result<size_t> TlsStream::read_some(std::span<uint8_t> buffer)
{
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

}  // namespace

Result<std::unique_ptr<Stream>> tls_connect(UniqueFd fd, const std::string& host, const std::string& peer,
                                            const std::string& ca_file, const IoTimeouts& timeouts)
{
    auto stream = std::make_unique<TlsStream>(std::move(fd), peer, timeouts);
    TRY(stream->handshake(host, ca_file));
    return std::unique_ptr<Stream>(std::move(stream));
}

}  // namespace cvm::net
