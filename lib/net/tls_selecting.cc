// TlsServerContext::create_selecting (net/tls.h): a server whose certificate is chosen per
// handshake, for one private key. The RA-TLS server (ratls/https_server.h) uses it to give each
// client a certificate bound to the nonce the client sent as SNI.
//
// mbedTLS calls the certificate selection callback (mbedtls_ssl_conf_cert_cb) once per handshake,
// after the whole ClientHello is parsed and while the SNI it carried is still readable
// (library/ssl_tls13_server.c: ssl_tls13_postprocess_client_hello(); TLS 1.2:
// library/ssl_tls12_server.c: ssl_parse_client_hello(), which then clear sni_name); the
// certificate set there with mbedtls_ssl_set_hs_own_cert() is referenced only while the handshake
// runs, and the connection's TlsStream keeps it for its whole life anyway. A callback error fails
// the handshake before any certificate is sent.
#include <mbedtls/pk.h>

#include <cstring>

#include "net/tls.h"
#include "net/tls_stream.h"

namespace cvm::net {

namespace {

// The certificate of one handshake, parsed into the connection's own storage and checked against
// the context's key. 0, or an mbedTLS error for the handshake to fail with.
int use_selected(TlsStream& stream, TlsConfig& config, ByteView cert)
{
    mbedtls_x509_crt& crt = stream.selected_cert();
    int rc;
    if (cert.size() > 0 && cert[0] == '-') {  // PEM: mbedTLS recognises it by the terminating NUL
        Bytes pem(cert.begin(), cert.end());
        pem.push_back(0);
        rc = mbedtls_x509_crt_parse(&crt, pem.data(), pem.size());
    } else {
        rc = mbedtls_x509_crt_parse_der(&crt, cert.data(), cert.size());
    }
    if (rc != 0)
        return rc < 0 ? rc : MBEDTLS_ERR_X509_INVALID_FORMAT;  // > 0: some certificates of a chain failed
    rc = mbedtls_pk_check_pair(&crt.pk, &config.key, mbedtls_ctr_drbg_random, &config.drbg);
    if (rc != 0)
        return rc;
    return mbedtls_ssl_set_hs_own_cert(&stream.ssl(), &crt, &config.key);
}

int select_certificate(mbedtls_ssl_context* ssl)
{
    auto* stream = static_cast<TlsStream*>(mbedtls_ssl_get_user_data_p(ssl));
    // The configuration is shared and const here; mbedTLS's getter takes it non-const but only
    // reads it, and the key is only read (signing) through the pointer handed back below.
    auto* conf = const_cast<mbedtls_ssl_config*>(mbedtls_ssl_context_get_config(ssl));
    auto* config = static_cast<TlsConfig*>(mbedtls_ssl_conf_get_user_data_p(conf));
    if (stream == nullptr || config == nullptr)
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    // After a HelloRetryRequest mbedTLS calls back for the second ClientHello too, whose SNI
    // RFC 8446 §4.1.2 requires to be unchanged: the first selection stands.
    if (stream->selected_cert().raw.p != nullptr)
        return 0;
    size_t name_len = 0;
    const unsigned char* name = mbedtls_ssl_get_hs_sni(ssl, &name_len);
    std::string_view server_name(reinterpret_cast<const char*>(name), name ? name_len : 0);
    auto cert = config->select(server_name);
    if (!cert.ok()) {
        // The alert is sent here because mbedTLS sends none for a callback's error: RFC 6066 §3
        // "If the server understood the ClientHello extension but does not recognize the server
        // name, the server SHOULD take one of two actions: either abort the handshake by sending
        // a fatal-level unrecognized_name(112) alert or continue the handshake."
        bool unrecognized = cert.error().code() == Errc::Format;
        mbedtls_ssl_send_alert_message(ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                       unrecognized ? MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME
                                                    : MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR);
        return unrecognized ? MBEDTLS_ERR_SSL_UNRECOGNIZED_NAME : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    }
    int rc = use_selected(*stream, *config, cert.value());
    if (rc != 0)
        mbedtls_ssl_send_alert_message(ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL, MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR);
    return rc;
}

}  // namespace

Result<std::unique_ptr<TlsServerContext>> TlsServerContext::create_selecting(const SecretBytes& key_pem,
                                                                             CertificateSelector select)
{
    auto config = std::make_unique<TlsConfig>();
    TRY(config->prepare(MBEDTLS_SSL_IS_SERVER));
    SecretBytes pem(key_pem.size() + 1);  // zero-filled: the last byte is the NUL that marks PEM input
    memcpy(pem.expose().data(), key_pem.expose().data(), key_pem.size());
    int rc = mbedtls_pk_parse_key(&config->key, pem.expose().data(), pem.size(), nullptr, 0, mbedtls_ctr_drbg_random,
                                  &config->drbg);
    if (rc != 0)
        return Error::make(Errc::Config, "cannot parse the TLS server's private key: %s", mbedtls_reason(rc).c_str());
    config->select = std::move(select);
    mbedtls_ssl_conf_set_user_data_p(&config->conf, config.get());
    mbedtls_ssl_conf_cert_cb(&config->conf, select_certificate);
    return std::unique_ptr<TlsServerContext>(new TlsServerContext(std::move(config)));
}

}  // namespace cvm::net
