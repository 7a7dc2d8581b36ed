#include "proto/heartbeat.h"

#include "base/base64.h"
#include "crypto/digest.h"
#include "proto/jcs.h"
#include "proto/json.h"
#include "proto/tags.h"

namespace cvm::proto {
namespace {

ByteView text(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string verdict_text(const HeartbeatVerdict& v)
{
    MutJson d;
    d.add(d.root(), "accepted", yyjson_mut_bool(d.doc(), v.accepted));
    if (v.accepted) {
        d.add(d.root(), "interval", yyjson_mut_sint(d.doc(), v.interval));
        d.add(d.root(), "measurement", d.str(v.measurement));
        d.add(d.root(), "report_id", d.str(v.report_id));
        d.add(d.root(), "time", yyjson_mut_sint(d.doc(), v.time));
        return d.text();
    }
    const ErrorBody& e = *v.refusal;
    yyjson_mut_val* error = yyjson_mut_obj(d.doc());
    d.add(error, "code", d.str(error_code_name(e.code)));
    if (!e.claim.empty())
        d.add(error, "claim", d.str(e.claim));
    d.add(error, "detail", d.str(e.detail));
    if (!e.expected.empty()) {
        yyjson_mut_val* list = yyjson_mut_arr(d.doc());
        for (const std::string& x : e.expected)
            yyjson_mut_arr_append(list, d.str(x));
        d.add(error, "expected", list);
    }
    if (!e.got.empty())
        d.add(error, "got", d.str(e.got));
    d.add(d.root(), "error", error);
    return d.text();
}

Result<ErrorBody> parse_verdict_error(yyjson_val* e)
{
    constexpr const char* WHAT = "heartbeat answer.verdict.error";
    TRY(check_members(e, WHAT, {"code", "detail"}, {"claim", "expected", "got"}));
    std::string_view code = TRY(string_member(e, "code", WHAT));
    auto parsed = error_code_from_name(code);
    if (!parsed)
        return Error::make(Errc::Format, "%s.code: unknown code '%.*s'", WHAT,
                           static_cast<int>(std::min<size_t>(code.size(), 64)), code.data());
    ErrorBody out = error_body(*parsed, std::string(TRY(string_member(e, "detail", WHAT))));
    if (yyjson_obj_get(e, "claim"))
        out.claim = TRY(string_member(e, "claim", WHAT));
    if (yyjson_obj_get(e, "got"))
        out.got = TRY(string_member(e, "got", WHAT));
    if (yyjson_obj_get(e, "expected")) {
        yyjson_val* list = TRY(array_member(e, "expected", WHAT, 256));
        size_t i = 0, n = 0;
        yyjson_val* item = nullptr;
        yyjson_arr_foreach(list, i, n, item)
        {
            if (!yyjson_is_str(item))
                return Error::make(Errc::Format, "%s.expected[%zu]: expected a string", WHAT, i);
            out.expected.emplace_back(yyjson_get_str(item), yyjson_get_len(item));
        }
    }
    return out;
}

}  // namespace

Result<std::string> canonical_heartbeat_request(int64_t interval)
{
    if (interval < MIN_HEARTBEAT_INTERVAL || interval > MAX_HEARTBEAT_INTERVAL)
        return Error::make(Errc::Format, "heartbeat.request.heartbeat.interval: %lld seconds, expected %lld to %lld",
                           static_cast<long long>(interval), static_cast<long long>(MIN_HEARTBEAT_INTERVAL),
                           static_cast<long long>(MAX_HEARTBEAT_INTERVAL));
    return "{\"heartbeat\":{\"interval\":" + std::to_string(interval) + "}}";  // already RFC 8785
}

std::string serialize_heartbeat_request(const HeartbeatRequest& r)
{
    MutJson d;
    d.add(d.root(), "nonce", d.str(base64_encode(r.nonce)));
    d.add(d.root(), "pubkey", d.str(base64_encode(r.pubkey)));
    d.add(d.root(), "report", d.str(base64_encode(r.report)));
    if (!r.certs.empty()) {
        yyjson_mut_val* certs = yyjson_mut_arr(d.doc());
        for (const Bytes& der : r.certs)
            yyjson_mut_arr_append(certs, d.str(base64_encode(der)));
        d.add(d.root(), "certs", certs);
    }
    d.add(d.root(), "request", yyjson_mut_rawncpy(d.doc(), r.canonical_request.data(), r.canonical_request.size()));
    return d.text();
}

Result<HeartbeatRequest> parse_heartbeat_request(std::string_view body)
{
    constexpr const char* WHAT = "heartbeat";
    if (body.size() > MAX_MESSAGE_BYTES)
        return Error::make(Errc::Format, "heartbeat: body of %zu bytes exceeds %zu", body.size(), MAX_MESSAGE_BYTES);
    JsonDoc doc = TRY(JsonDoc::parse(body, WHAT));
    yyjson_val* root = doc.root();
    TRY(check_members(root, WHAT, {"nonce", "pubkey", "report", "request"}, {"certs"}));
    HeartbeatRequest r;
    r.nonce = TRY(base64_fixed_member<NONCE_SIZE>(root, "nonce", WHAT));
    r.pubkey = TRY(base64_fixed_member<32>(root, "pubkey", WHAT));
    r.report = TRY(base64_member(root, "report", WHAT, REPORT_SIZE));
    if (r.report.size() != REPORT_SIZE)
        return Error::make(Errc::Format, "heartbeat.report: %zu bytes, expected %zu", r.report.size(), REPORT_SIZE);
    if (yyjson_obj_get(root, "certs")) {
        yyjson_val* certs = TRY(array_member(root, "certs", WHAT, MAX_CERTS));
        size_t i = 0, n = 0;
        yyjson_val* item = nullptr;
        yyjson_arr_foreach(certs, i, n, item)
        {
            r.certs.push_back(TRY(base64_value(item, "heartbeat.certs[" + std::to_string(i) + "]", MAX_CERT_BYTES)));
        }
    }
    yyjson_val* request = yyjson_obj_get(root, "request");
    TRY(check_members(request, "heartbeat.request", {"heartbeat"}));
    yyjson_val* heartbeat = yyjson_obj_get(request, "heartbeat");
    TRY(check_members(heartbeat, "heartbeat.request.heartbeat", {"interval"}));
    r.interval = TRY(int_member(heartbeat, "interval", "heartbeat.request.heartbeat", MIN_HEARTBEAT_INTERVAL,
                                MAX_HEARTBEAT_INTERVAL));
    r.canonical_request = TRY(jcs_serialize(request));
    return r;
}

std::array<uint8_t, 64> heartbeat_verdict_digest(ByteView request_body, std::string_view canonical_verdict)
{
    auto body_hash = crypto::Sha256::of(request_body);
    auto verdict_hash = crypto::Sha256::of(text(canonical_verdict));
    return tagged_report_data(HEARTBEAT_VERDICT_TAG, {body_hash, verdict_hash});
}

Result<std::string> serialize_heartbeat_answer(const Ed25519KeyPair& broker, ByteView request_body,
                                               const HeartbeatVerdict& verdict, bool simulated)
{
    if (!verdict.accepted && !verdict.refusal)
        return Error::make(Errc::Config, "a refused heartbeat verdict needs its error object");
    std::string canonical = TRY(jcs_canonicalize(verdict_text(verdict)));
    Ed25519Signature sig = broker.sign(heartbeat_verdict_digest(request_body, canonical));
    std::string out = "{\"verdict\":" + canonical + ",\"sig\":\"" + base64_encode(sig) + "\"";
    return out + (simulated ? ",\"simulated\":true}" : "}");
}

Result<HeartbeatVerdict> open_heartbeat_answer(const Ed25519PublicKey& broker, ByteView request_body,
                                               std::string_view answer)
{
    constexpr const char* WHAT = "heartbeat answer";
    JsonDoc doc = TRY(JsonDoc::parse(answer, WHAT));
    TRY(check_members(doc.root(), WHAT, {"verdict", "sig"}, {"simulated"}));
    auto sig = TRY(base64_fixed_member<64>(doc.root(), "sig", WHAT));
    yyjson_val* v = yyjson_obj_get(doc.root(), "verdict");
    if (!yyjson_is_obj(v))
        return Error::make(Errc::Format, "heartbeat answer.verdict: expected an object");
    std::string canonical = TRY(jcs_serialize(v));
    if (!ed25519_verify(broker, heartbeat_verdict_digest(request_body, canonical), sig))
        return Error::make(Errc::Crypto,
                           "heartbeat verdict signature does not verify with the pinned broker key over the request "
                           "sent: not the broker's verdict on this heartbeat");
    constexpr const char* V = "heartbeat answer.verdict";
    HeartbeatVerdict out;
    out.accepted = TRY(bool_member(v, "accepted", V));
    if (out.accepted) {
        TRY(check_members(v, V, {"accepted", "interval", "measurement", "report_id", "time"}));
        out.interval = TRY(int_member(v, "interval", V, MIN_HEARTBEAT_INTERVAL, MAX_HEARTBEAT_INTERVAL));
        out.measurement = TRY(string_member(v, "measurement", V));
        out.report_id = TRY(string_member(v, "report_id", V));
        out.time = TRY(int_member(v, "time", V, 0, INT64_MAX));
        return out;
    }
    TRY(check_members(v, V, {"accepted", "error"}));
    out.refusal = TRY(parse_verdict_error(yyjson_obj_get(v, "error")));
    return out;
}

}  // namespace cvm::proto
