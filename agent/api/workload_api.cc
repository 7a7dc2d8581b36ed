#include "api/workload_api.h"

#include <sodium.h>
#include <yyjson.h>

#include <cstdio>

#include "api/requests.h"
#include "base/base64.h"
#include "proto/json.h"
#include "proto/pem.h"
#include "proto/tags.h"
#include "ratls/ratls.h"
#include "sealing/blob.h"
#include "snp/report.h"

namespace cvm::agent::api {
namespace {

constexpr const char* USER_DATA_CONSTRUCTION = "SHA-512(tag || 0x00 || u16be(len) || user_data)";
constexpr const char* RATLS_CONSTRUCTION = "SHA-512(tag || 0x00 || u16be(len) || spki_der || u16be(len) || nonce)";

// A yyjson document being built, freed with this object.
struct JsonOut {
    JsonOut() : doc(yyjson_mut_doc_new(nullptr)), root(yyjson_mut_obj(doc)) { yyjson_mut_doc_set_root(doc, root); }
    ~JsonOut() { yyjson_mut_doc_free(doc); }
    JsonOut(const JsonOut&) = delete;
    JsonOut& operator=(const JsonOut&) = delete;

    yyjson_mut_val* str(std::string_view s) { return yyjson_mut_strncpy(doc, s.data(), s.size()); }
    void add(yyjson_mut_val* object, const char* key, yyjson_mut_val* value)
    {
        yyjson_mut_obj_add_val(doc, object, key, value);
    }
    void add(const char* key, std::string_view value) { add(root, key, str(value)); }

    net::HttpResponse response(int status)
    {
        std::string text = proto::write_json(doc);
        text += '\n';
        return {status, {{"Content-Type", "application/json"}}, Bytes(text.begin(), text.end())};
    }

    yyjson_mut_doc* doc;
    yyjson_mut_val* root;
};

std::string_view body_text(const net::HttpRequest& request)
{
    return {reinterpret_cast<const char*>(request.body.data()), request.body.size()};
}

std::string_view text_of(const SecretBytes& pem)
{
    return {reinterpret_cast<const char*>(pem.expose().data()), pem.size()};
}

net::HttpResponse provider_error(const Error& error, GateFailure failure)
{
    if (failure == GateFailure::Closed)
        return json_error(503, "PROVIDER_CLOSED", error.message());
    if (failure == GateFailure::Provider)
        return json_error(500, "PROVIDER", error.message());
    return json_error(500, "INTERNAL", error.message());
}

// A derived key through the gate: the provider's refusals before the firmware (GateFailure::None)
// are the request's fault and answered 400; the rest as any provider error.
net::HttpResponse derive_error(const Error& error, GateFailure failure)
{
    if (failure == GateFailure::None)
        return json_error(400, "BAD_REQUEST", error.message());
    return provider_error(error, failure);
}

// {"plaintext": base64} written straight into the body: the plaintext is in no other buffer on
// its way out (the server wipes the body once it is written: server.h).
net::HttpResponse plaintext_answer(const SecretBytes& plaintext)
{
    constexpr std::string_view HEAD = "{\"plaintext\":\"", TAIL = "\"}\n";
    const size_t encoded = sodium_base64_encoded_len(plaintext.size(), sodium_base64_VARIANT_ORIGINAL);  // with NUL
    Bytes body(HEAD.size() + encoded + TAIL.size() - 1);
    std::copy(HEAD.begin(), HEAD.end(), body.begin());
    sodium_bin2base64(reinterpret_cast<char*>(body.data() + HEAD.size()), encoded, plaintext.expose().data(),
                      plaintext.size(), sodium_base64_VARIANT_ORIGINAL);
    std::copy(TAIL.begin(), TAIL.end(), body.begin() + static_cast<std::ptrdiff_t>(HEAD.size() + encoded - 1));
    return {200, {{"Content-Type", "application/json"}}, std::move(body)};
}

std::string hex_u64(uint64_t value)
{
    char text[17];
    snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
}

}  // namespace

net::HttpResponse json_error(int status, std::string_view code, std::string_view message)
{
    JsonOut out;
    yyjson_mut_val* error = yyjson_mut_obj(out.doc);
    out.add(error, "code", out.str(code));
    out.add(error, "message", out.str(message));
    out.add(out.root, "error", error);
    return out.response(status);
}

net::HttpResponse json_refusal(int status, std::string_view message)
{
    switch (status) {
    case 408: return json_error(status, "TIMEOUT", message);
    case 413: return json_error(status, "TOO_LARGE", message);
    case 431: return json_error(status, "HEADERS_TOO_LARGE", message);
    case 503: return json_error(status, "BUSY", message);
    default: return json_error(status, "BAD_REQUEST", message);
    }
}

Result<BootInfo> boot_info_from_report(ByteView report, std::string_view provider)
{
    snp::AttestationReport parsed = TRY_PREFIX(snp::parse_report(report), "the agent's boot report");
    BootInfo info;
    info.measurement = to_hex(parsed.measurement);
    info.host_data = to_hex(parsed.host_data);
    info.report_id = to_hex(parsed.report_id);
    if (!all_zero(parsed.chip_id))  // zero when the host masks it (MASK_CHIP_ID)
        info.chip_id = to_hex(parsed.chip_id);
    info.vmpl = parsed.vmpl;
    info.provider.assign(provider);
    info.committed_tcb = parsed.committed_tcb;
    info.host_data_bytes = parsed.host_data;
    return info;
}

WorkloadApi::WorkloadApi(ProviderGate& gate, BootInfo info, std::unique_ptr<AgentIssuer> issuer, ApiLimits limits,
                         TokenBucket::Clock clock)
        : m_gate(gate), m_info(std::move(info)), m_issuer(std::move(issuer)),
          m_bucket(limits.reports_per_second, limits.report_burst, std::move(clock))
{
}

net::HttpResponse WorkloadApi::handle(const net::HttpRequest& request)
{
    struct Route {
        std::string_view target;
        std::string_view method;
    };
    static constexpr Route ROUTES[] = {{"/v1/info", "GET"},
                                       {"/v1/evidence", "POST"},
                                       {"/v1/tls-certificate", "POST"},
                                       {"/v1/seal", "POST"},
                                       {"/v1/unseal", "POST"}};
    for (const Route& route : ROUTES) {
        if (request.target != route.target)
            continue;
        if (request.method != route.method) {
            auto answer = json_error(405, "METHOD_NOT_ALLOWED",
                                     std::string(route.target) + " takes " + std::string(route.method) + ", not " +
                                         request.method.substr(0, 16));
            answer.headers.add("Allow", std::string(route.method));
            return answer;
        }
        const bool sealing = route.target == "/v1/seal" || route.target == "/v1/unseal";
        const size_t limit = sealing ? MAX_SEAL_BODY : MAX_BODY;
        if (request.body.size() > limit)
            return json_error(413, "TOO_LARGE",
                              std::string(route.target) + " takes a body of at most " + std::to_string(limit) +
                                  " bytes, got " + std::to_string(request.body.size()));
        if (route.target == "/v1/info")
            return info();
        if (route.target == "/v1/evidence")
            return evidence(request);
        if (route.target == "/v1/seal")
            return seal(request);
        if (route.target == "/v1/unseal")
            return unseal(request);
        return tls_certificate(request);
    }
    return json_error(404, "NOT_FOUND",
                      "no such endpoint; the API has GET /v1/info, POST /v1/evidence, POST /v1/tls-certificate, "
                      "POST /v1/seal and POST /v1/unseal");
}

net::HttpResponse WorkloadApi::info() const
{
    JsonOut out;
    out.add("measurement", m_info.measurement);
    out.add("host_data", m_info.host_data);
    out.add("report_id", m_info.report_id);
    if (!m_info.chip_id.empty())
        out.add("chip_id", m_info.chip_id);
    out.add("platform", m_info.provider == PROVIDER_SIMULATED ? "simulated" : "sev-snp");
    out.add("provider", m_info.provider);
    out.add(out.root, "vmpl", yyjson_mut_uint(out.doc, m_info.vmpl));
    return out.response(200);
}

std::optional<net::HttpResponse> WorkloadApi::rate_limited()
{
    int64_t retry_after_ms = 0;
    if (m_bucket.take(&retry_after_ms))
        return std::nullopt;
    auto answer = json_error(429, "RATE_LIMITED",
                             "too many report requests; retry after " + std::to_string(retry_after_ms) + " ms");
    answer.headers.add("Retry-After", std::to_string((retry_after_ms + 999) / 1000));
    return answer;
}

net::HttpResponse WorkloadApi::evidence(const net::HttpRequest& request)
{
    auto parsed = parse_evidence_request(body_text(request));
    if (!parsed)
        return json_error(400, "BAD_REQUEST", parsed.error().message());
    if (auto refused = rate_limited())
        return *refused;
    const ByteView user_data = parsed->user_data;
    const ReportData report_data = proto::workload_user_data(user_data);
    GateFailure failure;
    auto got = m_gate.get_report(report_data, &failure);
    if (!got)
        return provider_error(got.error(), failure);
    auto certs = ordered_certificates(got.value());
    if (!certs)
        return json_error(500, "PROVIDER", certs.error().message());
    JsonOut out;
    out.add("report", base64_encode(got->report));
    yyjson_mut_val* list = yyjson_mut_arr(out.doc);
    for (const Bytes& der : certs.value())
        yyjson_mut_arr_append(list, out.str(base64_encode(der)));
    out.add(out.root, "certificates", list);
    out.add("provider", got->provider);
    out.add("user_data", to_hex(user_data));
    out.add("report_data", to_hex(report_data));
    yyjson_mut_val* binding = yyjson_mut_obj(out.doc);
    out.add(binding, "tag", out.str(proto::WORKLOAD_USER_DATA_TAG));
    out.add(binding, "construction", out.str(USER_DATA_CONSTRUCTION));
    out.add(out.root, "binding", binding);
    return out.response(200);
}

net::HttpResponse WorkloadApi::tls_certificate(const net::HttpRequest& request)
{
    auto parsed = parse_tls_certificate_request(body_text(request));
    if (!parsed)
        return json_error(400, "BAD_REQUEST", parsed.error().message());
    auto spki = ratls::subject_spki_from_pem(parsed->public_key_pem);
    if (!spki)
        return json_error(400, "BAD_REQUEST", spki.error().message());
    if (!m_issuer)
        return json_error(500, "INTERNAL", "the agent has no certificate key this boot");
    if (auto refused = rate_limited())
        return *refused;
    GateFailure failure;
    auto issued = m_issuer->issue(spki.value(), parsed->dns_names, parsed->nonce, &failure);
    if (!issued)
        return provider_error(issued.error(), failure);
    JsonOut out;
    out.add("certificate", text_of(proto::pem_encode(issued->certificate, "CERTIFICATE")));
    out.add("issuer", text_of(proto::pem_encode(issued->issuer, "CERTIFICATE")));
    yyjson_mut_val* binding = yyjson_mut_obj(out.doc);
    out.add(binding, "tag", out.str(proto::WORKLOAD_RATLS_TAG));
    out.add(binding, "construction", out.str(RATLS_CONSTRUCTION));
    out.add(out.root, "binding", binding);
    return out.response(200);
}

net::HttpResponse WorkloadApi::seal(const net::HttpRequest& request)
{
    auto parsed = parse_seal_request(body_text(request));
    if (!parsed)
        return json_error(400, "BAD_REQUEST", parsed.error().message());
    if (auto refused = rate_limited())
        return *refused;
    // The boot report's COMMITTED_TCB: committed TCB values only grow, so the platform can always
    // derive at it, now and in every later boot until a firmware rollback.
    const uint64_t tcb_version = m_info.committed_tcb;
    GateFailure failure;
    auto derived = m_gate.derive_key(sealing::request_for(parsed->policy, tcb_version), &failure);
    if (!derived)
        return derive_error(derived.error(), failure);
    auto blob =
        sealing::seal(derived.value(), parsed->policy, tcb_version, parsed->context, parsed->plaintext.expose(),
                      sealing::Aead::Aes256Gcm, sealing::launch_binding(parsed->policy, m_info.host_data_bytes));
    if (!blob)
        return json_error(500, "INTERNAL", blob.error().message());
    JsonOut out;
    out.add("blob", base64_encode(blob.value()));
    out.add("policy", sealing::policy_name(parsed->policy));
    out.add("tcb_version", hex_u64(tcb_version));
    out.add("aead", sealing::aead_name(sealing::Aead::Aes256Gcm));
    return out.response(200);
}

net::HttpResponse WorkloadApi::unseal(const net::HttpRequest& request)
{
    auto parsed = parse_unseal_request(body_text(request));
    if (!parsed)
        return json_error(400, "BAD_REQUEST", parsed.error().message());
    auto blob = sealing::parse_blob(parsed->blob);
    if (!blob)
        return json_error(400, "BAD_REQUEST", blob.error().message());
    if (auto refused = rate_limited())
        return *refused;
    // The blob's own recorded request: policy and TCB_VERSION name the key that opens it.
    GateFailure failure;
    auto derived = m_gate.derive_key(blob->request, &failure);
    if (!derived)
        return derive_error(derived.error(), failure);
    auto plaintext = sealing::unseal(derived.value(), blob.value(), parsed->context,
                                     sealing::launch_binding(blob->policy, m_info.host_data_bytes));
    if (!plaintext)
        return json_error(400, plaintext.error().code() == Errc::Crypto ? "UNSEAL_FAILED" : "BAD_REQUEST",
                          plaintext.error().message());
    return plaintext_answer(plaintext.value());
}

}  // namespace cvm::agent::api
