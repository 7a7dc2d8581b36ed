// RCAR as guest-components' client runs it (confidential-containers/guest-components 8246e5e,
// attestation-agent/kbs_protocol/src/client/rcar_client.rs: build_request, rcar_handshake,
// get_resource) against Trustee's server (confidential-containers/trustee 78962cd,
// kbs/src/attestation/backend.rs: __auth, __attest; kbs/src/api_server.rs: api).
#include "client/kbs_session.h"

#include <yyjson.h>

#include <algorithm>
#include <chrono>

#include "client/kbs_reply.h"
#include "initdata/initdata.h"
#include "kbs/evidence.h"
#include "net/url.h"
#include "proto/json.h"
#include "proto/messages.h"

namespace cvm::client {
namespace {

constexpr std::string_view API_PREFIX = "/kbs/v0";
constexpr size_t MAX_AUTH_REPLY = 16 * 1024;
// An EAR token carries the verifier's annotated evidence (the whole report, as claims).
constexpr size_t MAX_ATTEST_REPLY = 256 * 1024;

// The body of a reply that held a bearer token is wiped however the step ends.
struct WipedBody {
    net::HttpResponse& response;
    ~WipedBody() { secure_wipe(response.body); }
};

// The options of one request: its reply bounded, and its time bounded by the deadline as it is
// now, so that no number of requests outlasts the boot.
Result<net::HttpOptions> bounded(const KbsOptions& options, size_t max_body, bool secret_body, const char* step)
{
    net::HttpOptions o = options.http;
    o.limits.max_body_bytes = max_body;
    o.limits.secret_bodies = secret_body;
    if (options.deadline) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(*options.deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return Error::make(Errc::Network, "%s: the deadline passed before the request", step);
        o.total_timeout_ms = std::min<int64_t>(o.total_timeout_ms, left.count());
    }
    return o;
}

Result<void> check_options(const KbsOptions& o)
{
    net::Url url = TRY_PREFIX(net::parse_url(o.url), "KBS url");
    if (url.target != "/" || o.url.back() == '/' || o.url.find('#') != std::string::npos)
        return Error::make(Errc::Config, "KBS url \"%.80s\": expected http(s)://host[:port] without a path",
                           o.url.c_str());
    if (o.resources.size() > proto::MAX_RESOURCES)
        return Error::make(Errc::Config, "KBS resources: %zu, expected at most %zu", o.resources.size(),
                           proto::MAX_RESOURCES);
    for (size_t i = 0; i < o.resources.size(); ++i) {
        const KbsResource& r = o.resources[i];
        if (!proto::valid_resource_name(r.name))
            return Error::make(Errc::Config, "KBS resource %zu: name \"%.64s\" is not a valid resource name", i,
                               r.name.c_str());
        if (!proto::valid_kbs_path(r.path))
            return Error::make(Errc::Config,
                               "KBS resource %s: path \"%.100s\" is not <repository>/<type>/<tag> of valid names",
                               r.name.c_str(), r.path.c_str());
        for (size_t j = 0; j < i; ++j) {
            if (o.resources[j].name == r.name)
                return Error::make(Errc::Config, "KBS resource %s: named twice", r.name.c_str());
        }
    }
    if (o.initdata_toml && o.initdata_toml->size() > initdata::MAX_INITDATA_SIZE)
        return Error::make(Errc::Config, "KBS init-data: %zu bytes, expected at most %zu", o.initdata_toml->size(),
                           initdata::MAX_INITDATA_SIZE);
    return {};
}

// The attest reply, {"token": "<EAR JWT>"}, parsed in place inside wiping memory (so that the
// token is never in a heap block freed unwiped) and dropped: the cookie fetches the resources.
Result<void> check_token(const net::HttpResponse& response)
{
    constexpr const char* WHAT = "KBS attest reply";
    SecretBytes buffer(response.body.size() + YYJSON_PADDING_SIZE);
    std::copy(response.body.begin(), response.body.end(), buffer.expose().begin());
    proto::JsonDoc doc = TRY(proto::JsonDoc::parse_in_place(buffer.expose(), response.body.size(), WHAT));
    TRY(proto::check_members(doc.root(), WHAT, {"token"}));
    std::string_view token = TRY(proto::string_member(doc.root(), "token", WHAT));
    if (token.empty())
        return Error::make(Errc::Format, "%s.token: empty, expected an attestation token", WHAT);
    return {};
}

}  // namespace

Result<KbsSession> KbsSession::begin(const KbsOptions& options)
{
    TRY(check_options(options));
    KbsSession s(options, TRY_PREFIX(kbs::TeeKey::generate(), "KBS auth"));

    // kbs-types' Request. Only SHA-384 is offered: it is the one REPORT_DATA hash we compute, and
    // the one Trustee uses for SNP whatever is offered (kbs/src/attestation/mod.rs).
    proto::MutJson d;
    d.add(d.root(), "version", d.str(KBS_PROTOCOL_VERSION));
    d.add(d.root(), "tee", d.str("snp"));
    yyjson_mut_val* extra = yyjson_mut_obj(d.doc());
    yyjson_mut_val* hashes = yyjson_mut_arr(d.doc());
    yyjson_mut_arr_append(hashes, d.str("sha384"));
    d.add(extra, "supported-hash-algorithms", hashes);
    d.add(d.root(), "extra-params", extra);
    std::string body = d.text();

    net::Headers headers{{"Content-Type", "application/json"}};
    net::HttpResponse response =
        TRY_PREFIX(net::http_post(options.url + std::string(API_PREFIX) + "/auth", as_bytes(body), headers,
                                  TRY(bounded(options, MAX_AUTH_REPLY, false, "KBS auth"))),
                   "KBS auth");
    if (!kbs_reply::is_success(response.status)) {
        s.m_last_status = response.status;
        return kbs_reply::refusal("KBS auth", response);
    }
    s.m_cookie = TRY(kbs_reply::session_cookie("KBS auth", response.headers));
    s.m_nonce = TRY(kbs_reply::parse_challenge(response.body_text()));
    s.m_report_data = TRY_PREFIX(kbs::rcar_report_data(s.m_nonce, s.m_key), "KBS auth");
    return s;
}

Result<void> KbsSession::attest(ByteView report, const std::vector<snp::CertEntry>& certs)
{
    if (m_attested)
        return Error::make(Errc::Config, "KBS attest: this session has attested already");

    // kbs-types' Attestation: the runtime data is what REPORT_DATA binds (the nonce verbatim, the
    // JWK), the evidence guest-components' SNP attester's {attestation_report, cert_chain}.
    proto::MutJson d;
    yyjson_mut_val* initdata = yyjson_mut_null(d.doc());
    if (m_options.initdata_toml) {
        initdata = yyjson_mut_obj(d.doc());
        d.add(initdata, "format", d.str("toml"));
        d.add(initdata, "body", d.str(*m_options.initdata_toml));
    }
    yyjson_mut_val* runtime = yyjson_mut_obj(d.doc());
    d.add(runtime, "nonce", d.str(m_nonce));
    d.add(runtime, "tee-pubkey", m_key.jwk(d.doc()));
    yyjson_mut_val* primary = yyjson_mut_obj(d.doc());
    d.add(primary, "attestation_report", TRY_PREFIX(kbs::report_to_json(d.doc(), report), "KBS attest"));
    d.add(primary, "cert_chain", kbs::cert_chain_to_json(d.doc(), certs));
    yyjson_mut_val* evidence = yyjson_mut_obj(d.doc());
    d.add(evidence, "primary_evidence", primary);
    d.add(evidence, "additional_evidence", d.str(""));
    d.add(d.root(), "init-data", initdata);
    d.add(d.root(), "runtime-data", runtime);
    d.add(d.root(), "tee-evidence", evidence);
    std::string body = d.text();

    // Trustee sends the same cookie back with the token (the session's id does not change), so
    // the one from auth is kept and this reply's Set-Cookie is not read.
    net::Headers headers{{"Content-Type", "application/json"}, {"Cookie", m_cookie}};
    net::HttpResponse response =
        TRY_PREFIX(net::http_post(m_options.url + std::string(API_PREFIX) + "/attest", as_bytes(body), headers,
                                  TRY(bounded(m_options, MAX_ATTEST_REPLY, true, "KBS attest"))),
                   "KBS attest");
    WipedBody wiped{response};
    if (!kbs_reply::is_success(response.status)) {
        m_last_status = response.status;
        return kbs_reply::refusal("KBS attest", response);
    }
    TRY(check_token(response));
    m_attested = true;
    return {};
}

Result<proto::Release> KbsSession::fetch()
{
    if (!m_attested)
        return Error::make(Errc::Config, "KBS resources: the session has not attested");
    proto::Release release;
    net::Headers headers{{"Cookie", m_cookie}};
    for (const KbsResource& r : m_options.resources) {
        std::string step = "KBS resource " + r.name + " (" + r.path + ")";
        std::string url = m_options.url + std::string(API_PREFIX) + "/resource/" + r.path;
        net::HttpOptions options = TRY(bounded(m_options, kbs::MAX_JWE_SIZE, false, step.c_str()));
        net::HttpResponse response = TRY_PREFIX(net::http_get(url, headers, options), "%s", step.c_str());
        if (!kbs_reply::is_success(response.status)) {
            m_last_status = response.status;
            return kbs_reply::refusal(step, response);
        }
        SecretBytes value = TRY_PREFIX(m_key.decrypt(response.body_text()), "%s", step.c_str());
        if (r.volume)
            release.volumes.push_back(proto::ReleasedVolume{r.name, std::move(value)});
        else
            release.secrets.push_back(proto::ReleasedSecret{r.name, std::move(value), std::nullopt});
    }
    return release;
}

}  // namespace cvm::client
