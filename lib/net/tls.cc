#include "net/tls.h"

#include <mbedtls/x509_crt.h>

#include <algorithm>

#include "net/tls_stream.h"

namespace cvm::net {

namespace {

// A client handshake's failure: the certificate's verification flags in words, else the cause.
Error client_handshake_error(TlsStream& stream, int rc, const std::string& peer)
{
    uint32_t flags = mbedtls_ssl_get_verify_result(&stream.ssl());
    if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != 0) {
        char info[160];
        int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
        std::string reasons(info, n > 0 ? static_cast<size_t>(n) : 0);  // one line per flag
        while (!reasons.empty() && reasons.back() == '\n')
            reasons.pop_back();
        std::replace(reasons.begin(), reasons.end(), '\n', ';');
        return Error::make(Errc::Network, "TLS certificate of %s does not verify: %s", peer.c_str(), reasons.c_str());
    }
    return stream.handshake_error(rc);
}

// The certificate and key the client presents when the server asks for one. The key's PEM is
// copied into a wiping buffer with the NUL that tells mbedTLS it is PEM.
Result<void> use_identity(TlsConfig& config, const TlsClientIdentity& identity)
{
    int rc = mbedtls_x509_crt_parse_der(&config.own, identity.cert_der.data(), identity.cert_der.size());
    if (rc != 0)
        return Error::make(Errc::Config, "the TLS client certificate does not parse: %s", mbedtls_reason(rc).c_str());
    SecretBytes pem(identity.key_pem.size() + 1);
    std::copy(identity.key_pem.expose().begin(), identity.key_pem.expose().end(), pem.expose().begin());
    rc = mbedtls_pk_parse_key(&config.key, pem.expose().data(), pem.size(), nullptr, 0, mbedtls_ctr_drbg_random,
                              &config.drbg);
    if (rc != 0)
        return Error::make(Errc::Config, "the TLS client key does not parse: %s", mbedtls_reason(rc).c_str());
    rc = mbedtls_pk_check_pair(&config.own.pk, &config.key, mbedtls_ctr_drbg_random, &config.drbg);
    if (rc != 0)
        return Error::make(Errc::Config, "the TLS client key does not belong to its certificate: %s",
                           mbedtls_reason(rc).c_str());
    rc = mbedtls_ssl_conf_own_cert(&config.conf, &config.own, &config.key);
    if (rc != 0)
        return Error::make(Errc::Config, "cannot use the TLS client certificate: %s", mbedtls_reason(rc).c_str());
    return {};
}

}  // namespace

Result<std::unique_ptr<Stream>> tls_connect(UniqueFd fd, const std::string& host, const std::string& peer,
                                            const std::string& ca_file, const IoTimeouts& timeouts,
                                            const TlsClientIdentity* identity)
{
    // Each client connection has its own configuration: it is cheap next to the handshake, and
    // the CA bundle is read fresh, so a changed bundle applies to the next connection.
    auto config = std::make_unique<TlsConfig>();
    int rc = mbedtls_x509_crt_parse_file(&config->chain, ca_file.c_str());
    if (rc < 0)
        return Error::make(Errc::Config, "cannot load the CA bundle %s: %s", ca_file.c_str(),
                           mbedtls_reason(rc).c_str());
    TRY(config->prepare(MBEDTLS_SSL_IS_CLIENT));
    mbedtls_ssl_conf_authmode(&config->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&config->conf, &config->chain, nullptr);
    if (identity)
        TRY(use_identity(*config, *identity));

    const TlsConfig& conf = *config;
    auto stream = std::make_unique<TlsStream>(std::move(fd), peer, timeouts, std::move(config));
    TRY(stream->setup(conf));
    rc = mbedtls_ssl_set_hostname(&stream->ssl(), host.c_str());
    if (rc != 0)
        return Error::make(Errc::Network, "cannot set up TLS for %s: %s", peer.c_str(), mbedtls_reason(rc).c_str());
    rc = stream->handshake();
    if (rc != 0)
        return client_handshake_error(*stream, rc, peer);
    return std::unique_ptr<Stream>(std::move(stream));
}

}  // namespace cvm::net
