// The server half of net/tls.h: one configuration loaded at start, shared by every connection.
//
// Sharing is sound with MBEDTLS_THREADING_C (enforced in tls_stream.h): mbedtls_ssl_setup takes
// the config as const and "No copy of the configuration context is made, it can be shared by many
// mbedtls_ssl_context structures" (ssl.h); mbedtls_ctr_drbg_random is documented safe "from
// multiple threads" once seeded; RSA private-key operations lock the key's own mutex, and ECDSA
// signing only reads the key (with MBEDTLS_ECP_FIXED_POINT_OPTIM, on by default, every short
// Weierstrass curve has a static comb table, so ecp_mul_comb never caches one into the shared
// group). TLS 1.3's PSA key store is locked by mbedTLS itself under MBEDTLS_THREADING_C.
#include <mbedtls/pk.h>

#include <cstring>
#include <string_view>

#include "base/file.h"
#include "net/tls.h"
#include "net/tls_stream.h"

namespace cvm::net {

namespace {

constexpr size_t MAX_CERT_FILE_BYTES = 1024 * 1024;  // a chain of a few certificates is a few KiB
constexpr size_t MAX_KEY_FILE_BYTES = 64 * 1024;     // an RSA-8192 key in PEM is under 7 KiB

bool contains(ByteView data, std::string_view needle)
{
    return std::string_view(reinterpret_cast<const char*>(data.data()), data.size()).find(needle) !=
           std::string_view::npos;
}

// Failures to read a configured file are configuration errors, whatever read_file() called them.
Error config_error(const Error& e, const char* what)
{
    return Error::from_errno(Errc::Config, e.errno_value(), "cannot load the TLS %s: %.*s", what,
                             static_cast<int>(e.message().size()), e.message().data());
}

Result<void> load_chain(TlsConfig& config, const std::string& path)
{
    auto text = read_text_file(path, MAX_CERT_FILE_BYTES);
    if (!text.ok())
        return config_error(text.error(), "certificate chain");
    const std::string& pem = text.value();
    if (!contains(as_bytes(pem), "-----BEGIN CERTIFICATE-----"))
        return Error::make(Errc::Config, "TLS certificate chain %s is not PEM (no BEGIN CERTIFICATE line)",
                           path.c_str());
    // The length includes the terminating NUL: that is how mbedTLS recognises PEM input.
    int rc = mbedtls_x509_crt_parse(&config.chain, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1);
    if (rc < 0)
        return Error::make(Errc::Config, "cannot parse the TLS certificate chain %s: %s", path.c_str(),
                           mbedtls_reason(rc).c_str());
    if (rc > 0)  // mbedTLS keeps the certificates that parse; a chain with holes is still wrong
        return Error::make(Errc::Config, "cannot parse %d of the certificates in the TLS certificate chain %s", rc,
                           path.c_str());
    return {};
}

Result<void> load_key(TlsConfig& config, const std::string& path)
{
    auto file = read_secret_file(path, MAX_KEY_FILE_BYTES);
    if (!file.ok())
        return config_error(file.error(), "private key");
    const SecretBytes& raw = file.value();
    if (!contains(raw.expose(), "-----BEGIN ") || !contains(raw.expose(), "PRIVATE KEY-----"))
        return Error::make(Errc::Config, "TLS private key %s is not PEM (no BEGIN ... PRIVATE KEY line)", path.c_str());
    SecretBytes pem(raw.size() + 1);  // zero-filled: the last byte is the NUL that marks PEM input
    memcpy(pem.expose().data(), raw.expose().data(), raw.size());
    int rc = mbedtls_pk_parse_key(&config.key, pem.expose().data(), pem.size(), nullptr, 0, mbedtls_ctr_drbg_random,
                                  &config.drbg);
    if (rc != 0)
        return Error::make(Errc::Config, "cannot parse the TLS private key %s: %s", path.c_str(),
                           mbedtls_reason(rc).c_str());
    return {};
}

// The X.509 verdict on a client's certificate, with ClientCertificates::Optional: none. Called by
// mbedTLS for each certificate of the client's chain (library/x509_crt.c: x509_crt_verify_chain(),
// with no trusted CA configured every chain ends NOT_TRUSTED); clearing the flags leaves the
// handshake's verify result 0 and the judgement to the handler. mbedTLS still requires, and checks,
// the client's CertificateVerify under the certificate's key whatever the flags say
// (library/ssl_tls13_generic.c: mbedtls_ssl_tls13_process_certificate_verify(); TLS 1.2:
// library/ssl_tls12_server.c: ssl_parse_certificate_verify()).
int defer_to_handler(void*, mbedtls_x509_crt*, int, uint32_t* flags)
{
    *flags = 0;
    return 0;
}

}  // namespace

TlsServerContext::TlsServerContext(std::unique_ptr<TlsConfig> config) : m_config(std::move(config)) {}

TlsServerContext::~TlsServerContext() = default;

Result<std::unique_ptr<TlsServerContext>> TlsServerContext::create(const TlsServerFiles& files,
                                                                   ClientCertificates clients)
{
    auto config = std::make_unique<TlsConfig>();
    TRY(config->prepare(MBEDTLS_SSL_IS_SERVER));  // first: parsing and checking the key use the generator
    TRY(load_chain(*config, files.cert_file));
    TRY(load_key(*config, files.key_file));
    int rc = mbedtls_pk_check_pair(&config->chain.pk, &config->key, mbedtls_ctr_drbg_random, &config->drbg);
    if (rc != 0)
        return Error::make(Errc::Config, "TLS private key %s does not match the first certificate in %s: %s",
                           files.key_file.c_str(), files.cert_file.c_str(), mbedtls_reason(rc).c_str());
    rc = mbedtls_ssl_conf_own_cert(&config->conf, &config->chain, &config->key);
    if (rc != 0)
        return Error::make(Errc::Config, "cannot use the TLS certificate %s: %s", files.cert_file.c_str(),
                           mbedtls_reason(rc).c_str());
    if (clients == ClientCertificates::Optional) {
        // No CA chain is configured: with VERIFY_OPTIONAL mbedTLS accepts that
        // (library/ssl_tls.c: mbedtls_ssl_verify_certificate() refuses a missing chain only
        // under VERIFY_REQUIRED), and a client that sends no certificate is served too.
        mbedtls_ssl_conf_authmode(&config->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
        mbedtls_ssl_conf_verify(&config->conf, defer_to_handler, nullptr);
    }
    return std::unique_ptr<TlsServerContext>(new TlsServerContext(std::move(config)));
}

Result<std::unique_ptr<Stream>> tls_accept(UniqueFd fd, const TlsServerContext& context, const std::string& peer,
                                           const IoTimeouts& timeouts)
{
    auto stream = std::make_unique<TlsStream>(std::move(fd), peer, timeouts, nullptr);
    TRY(stream->setup(*context.m_config));
    int rc = stream->handshake();
    if (rc != 0)
        return stream->handshake_error(rc);
    return std::unique_ptr<Stream>(std::move(stream));
}

}  // namespace cvm::net
