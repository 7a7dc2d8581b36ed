#include "client/session.h"

#include <algorithm>

#include "proto/answer.h"

namespace cvm::client {
namespace {

ByteView text_bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Result<net::HttpResponse> post(const ClientOptions& o, std::string_view path, std::string_view body)
{
    net::Headers headers{{"Content-Type", std::string(proto::JSON_TYPE)}};
    return net::http_post(o.broker_url + std::string(path), text_bytes(body), headers, o.http);
}

bool is_json(const net::HttpResponse& r)
{
    auto type = r.content_type();
    return type && type->substr(0, proto::JSON_TYPE.size()) == proto::JSON_TYPE;
}

}  // namespace

Error refusal_error(const net::HttpResponse& response, std::optional<proto::ErrorBody>* out)
{
    auto body = is_json(response) ? proto::parse_error(response.body_text())
                                  : Result<proto::ErrorBody>(Error::make(Errc::Format, "not JSON"));
    if (!body) {
        Errc code = response.status >= 500 ? Errc::Unavailable : Errc::Network;
        return Error::make(code, "broker answered HTTP %d without a cvmkb/1 error object (%.*s)", response.status,
                           static_cast<int>(body.error().message().size()), body.error().message().data());
    }
    const proto::ErrorBody& e = body.value();
    std::string_view name = proto::error_code_name(e.code);
    // The code by our own table, never the unsigned `retryable` member (docs/cvmkb-1.md §7).
    Error error = Error::make(proto::is_retryable(e.code) ? Errc::Unavailable : Errc::Policy,
                              "broker refused: %.*s (%s): %s", static_cast<int>(name.size()), name.data(),
                              e.claim.empty() ? "-" : e.claim.c_str(), e.detail.c_str());
    if (out)
        *out = body.release_value();
    return error;
}

Result<Session> Session::begin(const ClientOptions& options)
{
    return begin(options, proto::X25519KeyPair::generate());
}

Result<Session> Session::begin(const ClientOptions& options, const proto::X25519KeyPair& key)
{
    Secret<proto::X25519_KEY_SIZE> private_key;
    std::copy_n(key.private_key().expose().begin(), private_key.size(), private_key.expose().begin());
    Session s(options, proto::X25519KeyPair::from_private(std::move(private_key)));
    net::HttpResponse response = TRY(post(options, proto::CHALLENGE_PATH, "{}"));
    if (response.status != 200)
        return refusal_error(response, &s.m_refusal);
    proto::Challenge challenge = TRY_PREFIX(proto::parse_challenge(response.body_text()), "broker challenge");
    s.m_nonce = challenge.nonce;
    s.m_canonical_request = TRY(proto::canonical_request(options.resources, options.volumes));
    s.m_report_data = proto::report_data(s.m_nonce, s.m_key.public_key(), proto::request_hash(s.m_canonical_request));
    return s;
}

proto::AttestRequest Session::request(Bytes report, std::vector<Bytes> certs) const
{
    proto::AttestRequest r;
    r.nonce = m_nonce;
    r.pubkey = m_key.public_key();
    r.report = std::move(report);
    r.certs = std::move(certs);
    r.resources = m_options.resources;
    r.volumes = m_options.volumes;
    r.canonical_request = m_canonical_request;
    return r;
}

Result<proto::Release> Session::complete(Bytes report, std::vector<Bytes> certs)
{
    std::string body = proto::serialize_attest_request(request(std::move(report), std::move(certs)));
    net::HttpResponse response = TRY(post(m_options, proto::ATTEST_PATH, body));
    return accept(response);
}

proto::AttestRatlsRequest Session::ratls_request() const
{
    proto::AttestRatlsRequest r;
    r.nonce = m_nonce;
    r.pubkey = m_key.public_key();
    r.resources = m_options.resources;
    r.volumes = m_options.volumes;
    r.canonical_request = m_canonical_request;
    return r;
}

Result<proto::Release> Session::complete_ratls(std::shared_ptr<const net::TlsClientIdentity> identity)
{
    // Over plain HTTP there is no handshake to present the certificate in, and the broker would
    // refuse the request for want of one: say so before sending anything.
    if (m_options.broker_url.rfind("https://", 0) != 0)
        return Error::make(Errc::Config, "the RA-TLS transport needs an https:// broker, not %s",
                           m_options.broker_url.c_str());
    ClientOptions options = m_options;
    options.http.client_identity = std::move(identity);
    std::string body = proto::serialize_attest_ratls_request(ratls_request());
    net::HttpResponse response = TRY(post(options, proto::ATTEST_RATLS_PATH, body));
    return accept(response);
}

Result<proto::Release> Session::accept(const net::HttpResponse& response)
{
    if (response.status != 200)
        return refusal_error(response, &m_refusal);
    proto::AttestAnswer answer = TRY_PREFIX(proto::parse_attest_answer(response.body_text()), "broker answer");
    SecretBytes plaintext = TRY(proto::open_answer(m_options.broker_key, m_key, m_report_data, answer));
    return TRY_PREFIX(proto::parse_release(plaintext.expose()), "broker answer");
}

}  // namespace cvm::client
