#include "api/requests.h"

#include <algorithm>
#include <cstdint>

#include "base/base64.h"
#include "proto/json.h"
#include "proto/tags.h"
#include "ratls/ratls.h"

namespace cvm::agent::api {
namespace {

// Lower- or upper-case hex of at most `max_bytes` bytes, naming `what` in errors.
Result<Bytes> hex_member(yyjson_val* object, const char* key, const char* what, size_t max_bytes)
{
    std::string_view text = TRY(proto::string_member(object, key, what));
    if (text.size() > 2 * max_bytes)
        return Error::make(Errc::Format, "%s.%s: %zu hex digits, expected at most %zu (%zu bytes)", what, key,
                           text.size(), 2 * max_bytes, max_bytes);
    auto bytes = from_hex(text);
    if (!bytes)
        return Error::make(Errc::Format, "%s.%s: not hex (an even number of digits 0-9, a-f)", what, key);
    return std::move(*bytes);
}

// The context member: a string that sealing::check_context accepts.
Result<std::string> context_member(yyjson_val* object, const char* what)
{
    std::string_view text = TRY(proto::string_member(object, "context", what));
    TRY_PREFIX(sealing::check_context(text), "%s", what);
    return std::string(text);
}

// Base64 text of at most `max_bytes` bytes: its length is checked before anything is decoded.
Result<std::string_view> base64_text(yyjson_val* object, const char* key, const char* what, size_t max_bytes)
{
    std::string_view text = TRY(proto::string_member(object, key, what));
    const size_t max_text = (max_bytes + 2) / 3 * 4;
    if (text.size() > max_text)
        return Error::make(Errc::Format, "%s.%s: %zu base64 characters, expected at most %zu (%zu bytes)", what, key,
                           text.size(), max_text, max_bytes);
    return text;
}

}  // namespace

Result<SealRequest> parse_seal_request(std::string_view body)
{
    const char* what = "seal request";
    // Parsed in place inside wiping storage: yyjson makes no copy of the plaintext's text.
    SecretBytes text_buffer(body.size() + YYJSON_PADDING_SIZE);
    std::copy(body.begin(), body.end(), text_buffer.expose().begin());
    auto doc = TRY(proto::JsonDoc::parse_in_place(text_buffer.expose(), body.size(), what));
    yyjson_val* root = doc.root();
    TRY(proto::check_members(root, what, {"policy", "context", "plaintext"}));
    SealRequest request;
    std::string_view name = TRY(proto::string_member(root, "policy", what));
    auto policy = sealing::parse_policy(name);
    if (!policy)
        return Error::make(Errc::Format,
                           "%s.policy: \"%.*s\", expected \"measurement-and-chip\", \"measurement-only\" or "
                           "\"chip-only\"",
                           what, static_cast<int>(std::min<size_t>(name.size(), 40)), name.data());
    request.policy = *policy;
    request.context = TRY(context_member(root, what));
    std::string_view text = TRY(base64_text(root, "plaintext", what, sealing::MAX_PLAINTEXT));
    auto plaintext = base64_decode_secret(text);
    if (!plaintext)
        return Error::make(Errc::Format, "%s.plaintext: not canonical base64 (RFC 4648, padded)", what);
    if (plaintext->size() > sealing::MAX_PLAINTEXT)
        return Error::make(Errc::Format, "%s.plaintext: %zu bytes, expected at most %zu", what, plaintext->size(),
                           sealing::MAX_PLAINTEXT);
    request.plaintext = std::move(*plaintext);
    return request;
}

Result<UnsealRequest> parse_unseal_request(std::string_view body)
{
    const char* what = "unseal request";
    auto doc = TRY(proto::JsonDoc::parse(body, what));
    yyjson_val* root = doc.root();
    TRY(proto::check_members(root, what, {"context", "blob"}));
    UnsealRequest request;
    request.context = TRY(context_member(root, what));
    std::string_view text = TRY(base64_text(root, "blob", what, sealing::MAX_BLOB_SIZE));
    auto blob = base64_decode(text);
    if (!blob)
        return Error::make(Errc::Format, "%s.blob: not canonical base64 (RFC 4648, padded)", what);
    if (blob->empty() || blob->size() > sealing::MAX_BLOB_SIZE)
        return Error::make(Errc::Format, "%s.blob: %zu bytes, expected 1 to %zu", what, blob->size(),
                           sealing::MAX_BLOB_SIZE);
    request.blob = std::move(*blob);
    return request;
}

Result<void> check_dns_name(std::string_view name)
{
    TRY_PREFIX(ratls::check_dns_name(name), "dns_names");
    return {};
}

Result<EvidenceRequest> parse_evidence_request(std::string_view body)
{
    auto doc = TRY(proto::JsonDoc::parse(body, "evidence request"));
    TRY(proto::check_members(doc.root(), "evidence request", {"user_data"}));
    EvidenceRequest request;
    request.user_data = TRY(hex_member(doc.root(), "user_data", "evidence request", proto::MAX_USER_DATA));
    return request;
}

Result<TlsCertificateRequest> parse_tls_certificate_request(std::string_view body)
{
    const char* what = "tls-certificate request";
    auto doc = TRY(proto::JsonDoc::parse(body, what));
    yyjson_val* root = doc.root();
    TRY(proto::check_members(root, what, {"public_key", "dns_names"}, {"nonce"}));
    TlsCertificateRequest request;
    std::string_view pem = TRY(proto::string_member(root, "public_key", what));
    if (pem.size() > MAX_PUBLIC_KEY_PEM)
        return Error::make(Errc::Format, "%s.public_key: %zu bytes, expected a PEM public key of at most %zu", what,
                           pem.size(), MAX_PUBLIC_KEY_PEM);
    request.public_key_pem.assign(pem);
    yyjson_val* names = TRY(proto::array_member(root, "dns_names", what, SIZE_MAX));
    if (yyjson_arr_size(names) == 0 || yyjson_arr_size(names) > MAX_DNS_NAMES)
        return Error::make(Errc::Format, "%s.dns_names: %zu names, expected 1 to %zu", what, yyjson_arr_size(names),
                           MAX_DNS_NAMES);
    size_t index, count;
    yyjson_val* item;
    yyjson_arr_foreach(names, index, count, item)
    {
        if (!yyjson_is_str(item))
            return Error::make(Errc::Format, "%s.dns_names[%zu]: expected a string", what, index);
        std::string_view name(yyjson_get_str(item), yyjson_get_len(item));
        TRY(check_dns_name(name));
        request.dns_names.emplace_back(name);
    }
    if (yyjson_obj_get(root, "nonce"))
        request.nonce = TRY(hex_member(root, "nonce", what, proto::MAX_RATLS_NONCE));
    return request;
}

}  // namespace cvm::agent::api
