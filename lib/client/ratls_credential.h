// The agent's credential for the RA-TLS transport of cvmkb/1 (docs/cvmkb-1.md, "The RA-TLS
// transport"): a fresh P-256 key for one attempt, and a self-signed certificate carrying the
// report that binds that key to the session's cvmkb/1 report_data.
//
//   auto c = TRY(RatlsCredential::create(session.report_data()));
//   Evidence e = provider(c.report_data());   // = proto::ratls_broker(SPKI, cvmkb report_data)
//   auto identity = TRY(c.certify(e.report, e.certs, provider_name, time(nullptr)));
//   release = TRY(session.complete_ratls(identity));
//
// The certificate's id-pe-cmw evidence (lib/ratls) names binding RATLS_BROKER_TAG and, as its
// nonce, the 64-byte cvmkb/1 report_data, which the broker recomputes from the request body. The
// private key leaves this object only as the identity's wiping PEM buffer, for the TLS stack.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/tls.h"
#include "proto/binding.h"
#include "ratls/ratls.h"

namespace cvm::client {

// The certificate's validity around the agent's clock, which nobody relies on: the broker judges
// freshness by the nonce inside the evidence, never by these dates.
inline constexpr std::time_t RATLS_CERT_BACKDATE_SECONDS = 300;
inline constexpr std::time_t RATLS_CERT_LIFETIME_SECONDS = 3600;
inline constexpr std::string_view RATLS_CLIENT_CN = "cvminit ra-tls client";

class RatlsCredential {
public:
    // A fresh key pair for the session whose cvmkb/1 report_data is `cvmkb_report_data`.
    // Errc::Crypto when no key can be made.
    static Result<RatlsCredential> create(const proto::ReportData& cvmkb_report_data);

    // What the report's REPORT_DATA must be: proto::ratls_broker(this key's SPKI, cvmkb report_data).
    const proto::ReportData& report_data() const { return m_report_data; }
    ByteView spki_der() const { return m_key->spki_der(); }

    // The self-signed certificate with `report` (and the VEK, ASK, ARK in `certs`, DER, as the
    // provider gave them; at most ratls::MAX_CERTS_PER_EVIDENCE) from provider `provider`, and
    // this key: what the TLS client presents. Errors are lib/ratls's (a report of the wrong
    // size, too many certificates).
    Result<std::shared_ptr<const net::TlsClientIdentity>> certify(Bytes report, std::vector<Bytes> certs,
                                                                  std::string provider, std::time_t now) const;

private:
    RatlsCredential(std::unique_ptr<ratls::KeyPair> key, const proto::ReportData& cvmkb_report_data);

    std::unique_ptr<ratls::KeyPair> m_key;
    proto::ReportData m_cvmkb_report_data;
    proto::ReportData m_report_data;
};

}  // namespace cvm::client
