// The agent's side of cvmkb/1 over HTTP: one Session is one attestation (docs/cvmkb-1.md §3).
//
//   auto s = TRY(Session::begin(options));          // fresh X25519 key, POST challenge
//   Bytes report = provider(s.report_data());      // REPORT_DATA binds nonce, key and request
//   proto::Release r = TRY(s.complete(report, certs));  // POST attest, check, open
//
// The RA-TLS transport (docs/cvmkb-1.md, "The RA-TLS transport") replaces the last step: the
// report goes into a self-signed certificate for a fresh TLS key (REPORT_DATA =
// proto::ratls_broker(SPKI, report_data()), made by the caller), and complete_ratls() presents it
// over mutual TLS with a body of nonce, key and request only. The answer is checked exactly as
// complete()'s.
//
// complete() accepts an answer only when its Ed25519 signature verifies with the broker key the
// caller pinned (from the measured command line) and the payload opens with this session's
// private key for this report_data. A refusal from the broker becomes an Error whose message is
// "broker refused: <CODE> (<claim>): <detail>"; its code is Errc::Unavailable when the code is
// retryable by the agent's own table (proto::is_retryable: KDS_UNAVAILABLE, STORE_UNAVAILABLE,
// NONCE_EXPIRED) and Errc::Policy otherwise, and the error object itself is kept in
// last_refusal() for the operator. Nothing in it is signed (docs/cvmkb-1.md §7): the `retryable`
// member and the rest are never acted on. Transport failures are the net layer's errors.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "proto/hpke.h"
#include "proto/keys.h"
#include "proto/messages.h"
#include "proto/release.h"

namespace cvm::client {

struct ClientOptions {
    std::string broker_url;  // http(s)://host[:port], no path
    proto::Ed25519PublicKey broker_key{};
    std::vector<std::string> resources;
    // The state of each data volume among `resources`, as found on its disk; reported in the
    // attested request so that the broker can refuse an old copy (docs/cvmkb-1.md §3.3).
    std::vector<proto::VolumeReport> volumes;
    net::HttpOptions http;
};

class Session {
public:
    static Result<Session> begin(const ClientOptions& options);
    // The same with a key pair of an earlier session of this boot: a retry after a lost answer
    // must present the same key, or a once_per_launch resource is refused (ALREADY_RELEASED).
    static Result<Session> begin(const ClientOptions& options, const proto::X25519KeyPair& key);

    const proto::Nonce& nonce() const { return m_nonce; }
    const proto::ReportData& report_data() const { return m_report_data; }
    const proto::X25519KeyPair& key() const { return m_key; }

    // The attest message for this session (exposed for tests that tamper with it).
    proto::AttestRequest request(Bytes report, std::vector<Bytes> certs) const;

    // Sends the attest request and returns the released secrets.
    Result<proto::Release> complete(Bytes report, std::vector<Bytes> certs);

    // The attest-ratls message for this session.
    proto::AttestRatlsRequest ratls_request() const;

    // Sends the attest-ratls request over mutual TLS presenting `identity` (a certificate whose
    // evidence binds this session's report_data, and its key) and returns the released secrets.
    // Errc::Config unless the broker URL is https://.
    Result<proto::Release> complete_ratls(std::shared_ptr<const net::TlsClientIdentity> identity);

    // The checks of complete() on a response already received.
    Result<proto::Release> accept(const net::HttpResponse& response);

    const std::optional<proto::ErrorBody>& last_refusal() const { return m_refusal; }

private:
    Session(ClientOptions options, proto::X25519KeyPair key) : m_options(std::move(options)), m_key(std::move(key)) {}

    ClientOptions m_options;
    proto::X25519KeyPair m_key;
    proto::Nonce m_nonce{};
    std::string m_canonical_request;
    proto::ReportData m_report_data{};
    std::optional<proto::ErrorBody> m_refusal;
};

// A refusal response as an Error (see above); the parsed error object goes to `out` when given.
Error refusal_error(const net::HttpResponse& response, std::optional<proto::ErrorBody>* out);

}  // namespace cvm::client
