// tls_connect_checked (net/tls.h): a TLS client whose trust in the server's certificate is the
// caller's check instead of a CA bundle.
//
// The check runs inside mbedTLS's certificate verification, so a refused certificate ends the
// handshake before any application data. mbedTLS builds the server's chain without trusted CAs,
// then calls the verify callback for each certificate of that chain, the server's own certificate
// last at depth 0 (library/x509_crt.c: x509_crt_merge_flags_with_cb()); a non-zero return from the
// callback is fatal whatever the authmode (x509_crt_verify_restartable_ca_cb(): "non-zero return
// from the callback means a fatal error"), and mbedtls_ssl_verify_certificate() then sends an
// alert (access_denied: the flags are all ones) and fails the handshake. VERIFY_OPTIONAL is the
// mode because VERIFY_REQUIRED refuses a configuration without CA chain (library/ssl_tls.c:
// mbedtls_ssl_verify_certificate(), MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED); the X.509 verdict it
// would tolerate is cleared by the callback, which is the only judge. The server's signature
// with the certificate's key is checked after the callback as in any handshake (library/
// ssl_tls13_generic.c: mbedtls_ssl_tls13_process_certificate_verify(); TLS 1.2:
// library/ssl_tls12_client.c: ssl_parse_server_key_exchange()).
#include <mbedtls/x509_crt.h>

#include <optional>

#include "net/tls.h"
#include "net/tls_stream.h"

namespace cvm::net {

namespace {

struct CheckState {
    const PeerCertificateCheck* check{nullptr};
    bool checked{false};
    std::optional<Error> refused;
};

int check_peer(void* ctx, mbedtls_x509_crt* crt, int depth, uint32_t* flags)
{
    auto* state = static_cast<CheckState*>(ctx);
    *flags = 0;  // chains, names, dates, usage: not X.509's to decide here
    if (depth != 0)
        return 0;
    auto verdict = (*state->check)(ByteView(crt->raw.p, crt->raw.len));
    if (!verdict.ok()) {
        state->refused = verdict.release_error();
        return MBEDTLS_ERR_X509_FATAL_ERROR;
    }
    state->checked = true;
    return 0;
}

}  // namespace

Result<std::unique_ptr<Stream>> tls_connect_checked(UniqueFd fd, const std::string& server_name,
                                                    const std::string& peer, const PeerCertificateCheck& check,
                                                    const IoTimeouts& timeouts)
{
    auto config = std::make_unique<TlsConfig>();
    TRY(config->prepare(MBEDTLS_SSL_IS_CLIENT));
    mbedtls_ssl_conf_authmode(&config->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);

    const TlsConfig& conf = *config;
    auto stream = std::make_unique<TlsStream>(std::move(fd), peer, timeouts, std::move(config));
    TRY(stream->setup(conf));
    CheckState state;
    state.check = &check;
    mbedtls_ssl_set_verify(&stream->ssl(), check_peer, &state);
    // NULL: no SNI (and no name to match, which the check replaces anyway).
    int rc = mbedtls_ssl_set_hostname(&stream->ssl(), server_name.empty() ? nullptr : server_name.c_str());
    if (rc != 0)
        return Error::make(Errc::Network, "cannot set up TLS for %s: %s", peer.c_str(), mbedtls_reason(rc).c_str());
    rc = stream->handshake();
    if (state.refused)
        return *state.refused;
    if (rc != 0)
        return stream->handshake_error(rc);
    // A handshake without a server certificate (a resumed session, a PSK) never reached the check:
    // this client offers neither, so it would be a broken server or library, refused all the same.
    if (!state.checked)
        return Error::make(Errc::Network, "TLS handshake with %s completed without a server certificate to check",
                           peer.c_str());
    mbedtls_ssl_set_verify(&stream->ssl(), nullptr, nullptr);  // `state` ends here
    return std::unique_ptr<Stream>(std::move(stream));
}

}  // namespace cvm::net
