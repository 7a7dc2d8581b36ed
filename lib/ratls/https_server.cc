#include "ratls/https_server.h"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>

#include "ratls/sni_nonce.h"

namespace cvm::ratls {

namespace {

// The certificate without a nonce, shared by every handshake that did not ask for one.
class UnboundCertificate {
public:
    UnboundCertificate(CertificateSource source, int64_t reuse_seconds)
            : m_source(std::move(source)), m_reuse(std::chrono::seconds(reuse_seconds))
    {
    }

    Result<Bytes> get()
    {
        std::lock_guard lock(m_mutex);  // one fetch at a time: concurrent handshakes wait for it
        auto now = std::chrono::steady_clock::now();
        if (m_cert && now - m_fetched < m_reuse)
            return *m_cert;
        Bytes cert = TRY(m_source(ByteView()));
        m_cert = cert;
        m_fetched = now;
        return cert;
    }

private:
    CertificateSource m_source;
    std::chrono::steady_clock::duration m_reuse;
    std::mutex m_mutex;
    std::optional<Bytes> m_cert;
    std::chrono::steady_clock::time_point m_fetched;
};

Result<Bytes> select(const CertificateSource& source, UnboundCertificate& unbound, std::string_view server_name)
{
    auto nonce = nonce_from_sni(server_name);
    if (!nonce.ok()) {
        fprintf(stderr, "ra-tls server: refusing a handshake: %.*s\n", static_cast<int>(nonce.error().message().size()),
                nonce.error().message().data());
        return nonce.release_error();  // Errc::Format: unrecognized_name
    }
    auto cert = nonce.value() ? source(*nonce.value()) : unbound.get();
    if (!cert.ok()) {
        const Error& e = cert.error();
        fprintf(stderr, "ra-tls server: no certificate for a handshake (%s): %.*s\n",
                nonce.value() ? "with a nonce" : "without a nonce", static_cast<int>(e.message().size()),
                e.message().data());
        return Error::make(Errc::Unavailable, "no RA-TLS certificate");  // internal_error, not unrecognized_name
    }
    return cert;
}

}  // namespace

Result<std::unique_ptr<net::HttpServer>> start_https_server(HttpsServerOptions options, const SecretBytes& key_pem,
                                                            CertificateSource source, net::HttpHandler handler)
{
    if (options.http.tls || options.http.tls_context)
        return Error::make(Errc::Config,
                           "the RA-TLS server makes its own TLS context: leave tls and tls_context unset");
    auto unbound = std::make_shared<UnboundCertificate>(source, options.unbound_reuse_seconds);
    auto context = TRY(net::TlsServerContext::create_selecting(
        key_pem, [source = std::move(source), unbound](std::string_view server_name) {
            return select(source, *unbound, server_name);
        }));
    options.http.tls_context = std::move(context);
    return net::HttpServer::start(options.http, std::move(handler));
}

}  // namespace cvm::ratls
