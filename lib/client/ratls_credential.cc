#include "client/ratls_credential.h"

#include "proto/tags.h"

namespace cvm::client {

RatlsCredential::RatlsCredential(std::unique_ptr<ratls::KeyPair> key, const proto::ReportData& cvmkb_report_data)
        : m_key(std::move(key)), m_cvmkb_report_data(cvmkb_report_data),
          m_report_data(proto::ratls_broker(m_key->spki_der(), cvmkb_report_data))
{
}

Result<RatlsCredential> RatlsCredential::create(const proto::ReportData& cvmkb_report_data)
{
    std::unique_ptr<ratls::KeyPair> key = TRY_PREFIX(ratls::KeyPair::generate(), "RA-TLS client key");
    return RatlsCredential(std::move(key), cvmkb_report_data);
}

Result<std::shared_ptr<const net::TlsClientIdentity>>
RatlsCredential::certify(Bytes report, std::vector<Bytes> certs, std::string provider, std::time_t now) const
{
    ratls::EvidenceSet set;
    set.subject.report = std::move(report);
    set.subject.certs = std::move(certs);
    set.subject.binding = std::string(proto::RATLS_BROKER_TAG);
    set.subject.nonce.assign(m_cvmkb_report_data.begin(), m_cvmkb_report_data.end());
    set.subject.provider = std::move(provider);
    auto identity = std::make_shared<net::TlsClientIdentity>();
    identity->cert_der = TRY_PREFIX(m_key->issue({}, RATLS_CLIENT_CN, {}, set, now - RATLS_CERT_BACKDATE_SECONDS,
                                                 now + RATLS_CERT_LIFETIME_SECONDS),
                                    "RA-TLS client certificate");
    identity->key_pem = TRY_PREFIX(m_key->private_key_pem(), "RA-TLS client key");
    return std::shared_ptr<const net::TlsClientIdentity>(std::move(identity));
}

}  // namespace cvm::client
