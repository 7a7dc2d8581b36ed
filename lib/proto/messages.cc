#include "proto/messages.h"

#include <algorithm>

#include "base/base64.h"
#include "proto/jcs.h"
#include "proto/json.h"

namespace cvm::proto {
namespace {

// yyjson copies every string given to the *_strncpy functions into the document.
yyjson_mut_val* str(yyjson_mut_doc* doc, std::string_view s)
{
    return yyjson_mut_strncpy(doc, s.data(), s.size());
}
yyjson_mut_val* b64(yyjson_mut_doc* doc, ByteView data)
{
    return str(doc, base64_encode(data));
}

std::optional<VolumeState> volume_state_from_name(std::string_view name)
{
    for (VolumeState s : {VolumeState::Blank, VolumeState::Formatting, VolumeState::Ready}) {
        if (volume_state_name(s) == name)
            return s;
    }
    return std::nullopt;
}

// One element of "volumes": {"name", "state", "generation", "uuid"}, every member required, its
// name among `resources` and not reported before; blank with generation 0 and uuid "", formatting
// with a generation of at least 1, ready with any (0: a LUKS2 volume without the agent's token,
// which it adopts, lib/storage/luks2_volume.h ADOPTION; the broker then releases its key only
// when it knows no generation of that volume).
Result<VolumeReport> parse_volume_report(yyjson_val* item, const std::string& what,
                                         const std::vector<std::string>& resources,
                                         const std::vector<VolumeReport>& earlier)
{
    TRY(check_members(item, what, {"name", "state", "generation", "uuid"}));
    VolumeReport v;
    v.name = TRY(string_member(item, "name", what));
    if (std::find(resources.begin(), resources.end(), v.name) == resources.end())
        return Error::make(Errc::Format, "%s.name: '%s' is not among the request's resources", what.c_str(),
                           valid_resource_name(v.name) ? v.name.c_str() : "?");
    for (const VolumeReport& e : earlier) {
        if (e.name == v.name)
            return Error::make(Errc::Format, "%s.name: '%s' is reported twice", what.c_str(), v.name.c_str());
    }
    std::string_view state = TRY(string_member(item, "state", what));
    auto parsed = volume_state_from_name(state);
    if (!parsed)
        return Error::make(Errc::Format, "%s.state: '%.*s', expected blank, formatting or ready", what.c_str(),
                           static_cast<int>(std::min<size_t>(state.size(), 32)), state.data());
    v.state = *parsed;
    v.generation = static_cast<uint64_t>(
        TRY(int_member(item, "generation", what, 0, static_cast<int64_t>(MAX_VOLUME_GENERATION))));
    v.uuid = TRY(string_member(item, "uuid", what));
    bool blank = v.state == VolumeState::Blank;
    if (!blank && !is_canonical_uuid(v.uuid))
        return Error::make(Errc::Format, "%s.uuid: expected a lower-case 8-4-4-4-12 UUID for a %s volume", what.c_str(),
                           std::string(state).c_str());
    if (blank && !v.uuid.empty())
        return Error::make(Errc::Format, "%s.uuid: expected \"\" for a blank volume", what.c_str());
    if (blank ? v.generation != 0 : v.state == VolumeState::Formatting && v.generation == 0)
        return Error::make(Errc::Format, "%s.generation: %llu for a %s volume, expected %s", what.c_str(),
                           static_cast<unsigned long long>(v.generation), std::string(state).c_str(),
                           blank ? "0" : "at least 1");
    return v;
}

// The "request" member of `what` ("attest", "attest-ratls"): {"resources": [unique names],
// "volumes"?: [volume reports]}, and its canonical text.
Result<void> parse_resource_request(yyjson_val* request, std::string_view what, std::vector<std::string>& out,
                                    std::vector<VolumeReport>& volumes, std::string& canonical)
{
    std::string where = std::string(what) + ".request";
    TRY(check_members(request, where, {"resources"}, {"volumes"}));
    yyjson_val* resources = TRY(array_member(request, "resources", where, MAX_RESOURCES));
    size_t i = 0, n = 0;
    yyjson_val* item = nullptr;
    yyjson_arr_foreach(resources, i, n, item)
    {
        std::string_view name = yyjson_is_str(item) ? std::string_view(yyjson_get_str(item), yyjson_get_len(item)) : "";
        if (!valid_resource_name(name))
            return Error::make(Errc::Format,
                               "%s.resources[%zu]: expected a name of 1 to %zu of "
                               "A-Z a-z 0-9 _ . - (not starting with '.')",
                               where.c_str(), i, MAX_RESOURCE_NAME);
        if (std::find(out.begin(), out.end(), name) != out.end())
            return Error::make(Errc::Format, "%s.resources[%zu]: '%.*s' is listed twice", where.c_str(), i,
                               static_cast<int>(name.size()), name.data());
        out.emplace_back(name);
    }
    if (yyjson_obj_get(request, "volumes")) {
        yyjson_val* list = TRY(array_member(request, "volumes", where, MAX_RESOURCES));
        // An empty list would hash differently from the same request without it: one form only.
        if (yyjson_arr_size(list) == 0)
            return Error::make(Errc::Format, "%s.volumes: empty, expected the member left out", where.c_str());
        yyjson_arr_foreach(list, i, n, item)
        {
            std::string at = where + ".volumes[" + std::to_string(i) + "]";
            volumes.push_back(TRY(parse_volume_report(item, at, out, volumes)));
        }
    }
    canonical = TRY(jcs_serialize(request));
    return {};
}

}  // namespace

bool valid_resource_name(std::string_view name)
{
    if (name.empty() || name.size() > MAX_RESOURCE_NAME || name[0] == '.')
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    });
}

bool valid_kbs_path(std::string_view path)
{
    for (int segment = 0; segment < 3; ++segment) {
        size_t slash = path.find('/');
        if ((segment == 2) != (slash == std::string_view::npos) || !valid_resource_name(path.substr(0, slash)))
            return false;
        path = segment == 2 ? std::string_view() : path.substr(slash + 1);
    }
    return true;
}

bool valid_env_name(std::string_view name)
{
    if (name.empty() || name.size() > 128 || (name[0] >= '0' && name[0] <= '9'))
        return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::string serialize_challenge(const Challenge& challenge)
{
    MutJson d;
    d.add(d.root(), "nonce", b64(d.doc(), challenge.nonce));
    d.add(d.root(), "expires_in", yyjson_mut_sint(d.doc(), challenge.expires_in));
    return d.text();
}

Result<Challenge> parse_challenge(std::string_view body)
{
    JsonDoc doc = TRY(JsonDoc::parse(body, "challenge"));
    TRY(check_members(doc.root(), "challenge", {"nonce", "expires_in"}));
    Challenge c;
    c.nonce = TRY(base64_fixed_member<NONCE_SIZE>(doc.root(), "nonce", "challenge"));
    c.expires_in = TRY(int_member(doc.root(), "expires_in", "challenge", 1, 86400));
    return c;
}

Result<void> check_challenge_request(std::string_view body)
{
    if (body.empty())
        return {};
    JsonDoc doc = TRY(JsonDoc::parse(body, "challenge request"));
    return check_members(doc.root(), "challenge request", {});
}

std::string_view volume_state_name(VolumeState state)
{
    switch (state) {
    case VolumeState::Blank: return "blank";
    case VolumeState::Formatting: return "formatting";
    case VolumeState::Ready: return "ready";
    }
    return "?";
}

Result<std::string> canonical_request(const std::vector<std::string>& resources,
                                      const std::vector<VolumeReport>& volumes)
{
    MutJson d;
    yyjson_mut_val* list = yyjson_mut_arr(d.doc());
    for (const std::string& name : resources)
        yyjson_mut_arr_append(list, d.str(name));
    d.add(d.root(), "resources", list);
    if (!volumes.empty()) {
        yyjson_mut_val* reports = yyjson_mut_arr(d.doc());
        for (const VolumeReport& v : volumes) {
            yyjson_mut_val* o = yyjson_mut_obj(d.doc());
            d.add(o, "name", d.str(v.name));
            d.add(o, "state", d.str(volume_state_name(v.state)));
            d.add(o, "generation", yyjson_mut_uint(d.doc(), v.generation));
            d.add(o, "uuid", d.str(v.uuid));
            yyjson_mut_arr_append(reports, o);
        }
        d.add(d.root(), "volumes", reports);
    }
    std::string text = TRY(jcs_canonicalize(d.text()));
    // What the broker will parse, checked by the same parser, so nothing refused there is sent.
    JsonDoc doc = TRY(JsonDoc::parse(text, "request"));
    std::vector<std::string> names;
    std::vector<VolumeReport> reports;
    std::string canonical;
    TRY(parse_resource_request(doc.root(), "canonical", names, reports, canonical));
    return text;
}

std::string serialize_attest_request(const AttestRequest& request)
{
    MutJson d;
    d.add(d.root(), "nonce", b64(d.doc(), request.nonce));
    d.add(d.root(), "pubkey", b64(d.doc(), request.pubkey));
    d.add(d.root(), "report", b64(d.doc(), request.report));
    if (!request.certs.empty()) {
        yyjson_mut_val* certs = yyjson_mut_arr(d.doc());
        for (const Bytes& der : request.certs)
            yyjson_mut_arr_append(certs, b64(d.doc(), der));
        d.add(d.root(), "certs", certs);
    }
    // The canonical text is embedded as it is, so the broker hashes exactly what the agent did.
    d.add(d.root(), "request",
          yyjson_mut_rawncpy(d.doc(), request.canonical_request.data(), request.canonical_request.size()));
    return d.text();
}

Result<AttestRequest> parse_attest_request(std::string_view body)
{
    constexpr const char* WHAT = "attest";
    if (body.size() > MAX_MESSAGE_BYTES)
        return Error::make(Errc::Format, "attest: body of %zu bytes exceeds %zu", body.size(), MAX_MESSAGE_BYTES);
    JsonDoc doc = TRY(JsonDoc::parse(body, WHAT));
    yyjson_val* root = doc.root();
    TRY(check_members(root, WHAT, {"nonce", "pubkey", "report", "request"}, {"certs"}));
    AttestRequest r;
    r.nonce = TRY(base64_fixed_member<NONCE_SIZE>(root, "nonce", WHAT));
    r.pubkey = TRY(base64_fixed_member<32>(root, "pubkey", WHAT));
    r.report = TRY(base64_member(root, "report", WHAT, REPORT_SIZE));
    if (r.report.size() != REPORT_SIZE)
        return Error::make(Errc::Format, "attest.report: %zu bytes, expected %zu", r.report.size(), REPORT_SIZE);
    if (yyjson_obj_get(root, "certs")) {
        yyjson_val* certs = TRY(array_member(root, "certs", WHAT, MAX_CERTS));
        size_t i = 0, n = 0;
        yyjson_val* item = nullptr;
        yyjson_arr_foreach(certs, i, n, item)
        {
            std::string what = "attest.certs[" + std::to_string(i) + "]";
            r.certs.push_back(TRY(base64_value(item, what, MAX_CERT_BYTES)));
        }
    }
    TRY(parse_resource_request(yyjson_obj_get(root, "request"), WHAT, r.resources, r.volumes, r.canonical_request));
    return r;
}

std::string serialize_attest_ratls_request(const AttestRatlsRequest& request)
{
    MutJson d;
    d.add(d.root(), "nonce", b64(d.doc(), request.nonce));
    d.add(d.root(), "pubkey", b64(d.doc(), request.pubkey));
    d.add(d.root(), "request",
          yyjson_mut_rawncpy(d.doc(), request.canonical_request.data(), request.canonical_request.size()));
    return d.text();
}

Result<AttestRatlsRequest> parse_attest_ratls_request(std::string_view body)
{
    constexpr const char* WHAT = "attest-ratls";
    if (body.size() > MAX_MESSAGE_BYTES)
        return Error::make(Errc::Format, "attest-ratls: body of %zu bytes exceeds %zu", body.size(), MAX_MESSAGE_BYTES);
    JsonDoc doc = TRY(JsonDoc::parse(body, WHAT));
    yyjson_val* root = doc.root();
    TRY(check_members(root, WHAT, {"nonce", "pubkey", "request"}));
    AttestRatlsRequest r;
    r.nonce = TRY(base64_fixed_member<NONCE_SIZE>(root, "nonce", WHAT));
    r.pubkey = TRY(base64_fixed_member<32>(root, "pubkey", WHAT));
    TRY(parse_resource_request(yyjson_obj_get(root, "request"), WHAT, r.resources, r.volumes, r.canonical_request));
    return r;
}

std::string serialize_attest_answer(const AttestAnswer& answer)
{
    MutJson d;
    d.add(d.root(), "enc", b64(d.doc(), answer.enc));
    d.add(d.root(), "ct", b64(d.doc(), answer.ct));
    d.add(d.root(), "sig", b64(d.doc(), answer.sig));
    if (answer.simulated)
        d.add(d.root(), "simulated", yyjson_mut_true(d.doc()));
    return d.text();
}

Result<AttestAnswer> parse_attest_answer(std::string_view body)
{
    constexpr const char* WHAT = "answer";
    JsonDoc doc = TRY(JsonDoc::parse(body, WHAT));
    TRY(check_members(doc.root(), WHAT, {"enc", "ct", "sig"}, {"simulated"}));
    AttestAnswer a;
    a.enc = TRY(base64_fixed_member<32>(doc.root(), "enc", WHAT));
    a.ct = TRY(base64_member(doc.root(), "ct", WHAT, MAX_CIPHERTEXT));
    a.sig = TRY(base64_fixed_member<64>(doc.root(), "sig", WHAT));
    if (yyjson_obj_get(doc.root(), "simulated"))
        a.simulated = TRY(bool_member(doc.root(), "simulated", WHAT));
    return a;
}

ErrorBody error_body(ErrorCode code, std::string detail)
{
    ErrorBody e;
    e.code = code;
    e.detail = std::move(detail);
    e.retryable = is_retryable(code);
    return e;
}

std::string serialize_error(const ErrorBody& e)
{
    MutJson d;
    yyjson_mut_val* error = yyjson_mut_obj(d.doc());
    d.add(error, "code", d.str(error_code_name(e.code)));
    if (!e.claim.empty())
        d.add(error, "claim", d.str(e.claim));
    if (!e.expected.empty()) {
        yyjson_mut_val* expected = yyjson_mut_arr(d.doc());
        for (const std::string& x : e.expected)
            yyjson_mut_arr_append(expected, d.str(x));
        d.add(error, "expected", expected);
    }
    if (!e.got.empty())
        d.add(error, "got", d.str(e.got));
    d.add(error, "detail", d.str(e.detail));
    d.add(error, "retryable", yyjson_mut_bool(d.doc(), e.retryable));
    d.add(d.root(), "error", error);
    if (e.simulated)
        d.add(d.root(), "simulated", yyjson_mut_true(d.doc()));
    return d.text();
}

Result<ErrorBody> parse_error(std::string_view body)
{
    JsonDoc doc = TRY(JsonDoc::parse(body, "error"));
    TRY(check_members(doc.root(), "error", {"error"}, {"simulated"}));
    yyjson_val* e = yyjson_obj_get(doc.root(), "error");
    TRY(check_members(e, "error.error", {"code", "detail", "retryable"}, {"claim", "expected", "got"}));
    ErrorBody out;
    std::string_view code = TRY(string_member(e, "code", "error.error"));
    auto parsed = error_code_from_name(code);
    if (!parsed)
        return Error::make(Errc::Format, "error.error.code: unknown code '%.*s'",
                           static_cast<int>(std::min<size_t>(code.size(), 64)), code.data());
    out.code = *parsed;
    out.detail = TRY(string_member(e, "detail", "error.error"));
    out.retryable = TRY(bool_member(e, "retryable", "error.error"));
    if (yyjson_obj_get(e, "claim"))
        out.claim = TRY(string_member(e, "claim", "error.error"));
    if (yyjson_obj_get(e, "got"))
        out.got = TRY(string_member(e, "got", "error.error"));
    if (yyjson_obj_get(e, "expected")) {
        yyjson_val* list = TRY(array_member(e, "expected", "error.error", 256));
        size_t i = 0, n = 0;
        yyjson_val* item = nullptr;
        yyjson_arr_foreach(list, i, n, item)
        {
            if (!yyjson_is_str(item))
                return Error::make(Errc::Format, "error.error.expected[%zu]: expected a string", i);
            out.expected.emplace_back(yyjson_get_str(item), yyjson_get_len(item));
        }
    }
    if (yyjson_obj_get(doc.root(), "simulated"))
        out.simulated = TRY(bool_member(doc.root(), "simulated", "error"));
    return out;
}

}  // namespace cvm::proto
