#include "client/kbs_reply.h"

#include <strings.h>

#include "proto/json.h"

namespace cvm::client::kbs_reply {
namespace {

// At most `max` bytes of `text` with every byte outside printable ASCII replaced by '?', so that
// a KBS cannot put control sequences or invalid UTF-8 on the agent's console; "..." marks a cut.
std::string printable(std::string_view text, size_t max)
{
    std::string out;
    for (char c : text.substr(0, max))
        out += (c >= 0x20 && c <= 0x7e) ? c : '?';
    if (text.size() > max)
        out += "...";
    return out;
}

// RFC 6265 §4.1.1: cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E (no space,
// DQUOTE, comma, semicolon or backslash).
bool cookie_octet(char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

// "<Kind>: <detail>" of a kbs-types ErrorInformation body, or nullopt when the body is not one.
std::optional<std::string> problem_detail(std::string_view body)
{
    auto doc = proto::JsonDoc::parse(body, "KBS problem detail");
    if (!doc || !proto::check_members(doc->root(), "KBS problem detail", {"type", "detail"}))
        return std::nullopt;
    auto type = proto::string_member(doc->root(), "type", "KBS problem detail");
    auto detail = proto::string_member(doc->root(), "detail", "KBS problem detail");
    if (!type || !detail)
        return std::nullopt;
    // Trustee's type is ERROR_TYPE_PREFIX + the variant's name; another server's is shown whole.
    std::string_view kind = type.value();
    if (kind.substr(0, ERROR_TYPE_PREFIX.size()) == ERROR_TYPE_PREFIX)
        kind.remove_prefix(ERROR_TYPE_PREFIX.size());
    return printable(kind, 64) + ": " + printable(detail.value(), MAX_DETAIL_SHOWN);
}

}  // namespace

bool is_success(int status)
{
    return status >= 200 && status <= 299;
}

Error refusal(std::string_view step, const net::HttpResponse& response)
{
    int status = response.status;
    Errc code = (status >= 500 || status == 408 || status == 429) ? Errc::Unavailable : Errc::Policy;
    std::optional<std::string> problem = problem_detail(response.body_text());
    return Error::make(code, "%.*s: HTTP %d %s", static_cast<int>(step.size()), step.data(), status,
                       problem ? problem->c_str() : "(no problem detail)");
}

Result<std::string> session_cookie(std::string_view step, const net::Headers& headers)
{
    std::optional<std::string_view> found;
    for (const net::Header& h : headers.all()) {
        if (strcasecmp(h.name.c_str(), "Set-Cookie") != 0)
            continue;
        std::string_view pair = std::string_view(h.value).substr(0, h.value.find(';'));
        size_t equals = pair.find('=');
        if (equals == std::string_view::npos || pair.substr(0, equals) != SESSION_COOKIE)
            continue;
        if (found)
            return Error::make(Errc::Network, "%.*s: the reply sets the %.*s cookie twice, expected once",
                               static_cast<int>(step.size()), step.data(), static_cast<int>(SESSION_COOKIE.size()),
                               SESSION_COOKIE.data());
        found = pair.substr(equals + 1);
    }
    if (!found)
        return Error::make(Errc::Network, "%.*s: the reply sets no %.*s cookie (Set-Cookie), expected one",
                           static_cast<int>(step.size()), step.data(), static_cast<int>(SESSION_COOKIE.size()),
                           SESSION_COOKIE.data());
    std::string_view value = *found;
    bool octets = !value.empty() && value.size() <= MAX_COOKIE_VALUE;
    for (char c : value)
        octets = octets && cookie_octet(c);
    if (!octets)
        return Error::make(Errc::Network,
                           "%.*s: the %.*s cookie's value (%zu bytes) is not 1 to %zu cookie-octets (RFC 6265 §4.1.1)",
                           static_cast<int>(step.size()), step.data(), static_cast<int>(SESSION_COOKIE.size()),
                           SESSION_COOKIE.data(), value.size(), MAX_COOKIE_VALUE);
    return std::string(SESSION_COOKIE) + "=" + std::string(value);
}

Result<std::string> parse_challenge(std::string_view body)
{
    constexpr const char* WHAT = "KBS auth reply";
    proto::JsonDoc doc = TRY(proto::JsonDoc::parse(body, WHAT));
    yyjson_val* root = doc.root();
    TRY(proto::check_members(root, WHAT, {"nonce", "extra-params"}));
    std::string_view nonce = TRY(proto::string_member(root, "nonce", WHAT));
    if (nonce.empty() || nonce.size() > MAX_NONCE)
        return Error::make(Errc::Format, "%s.nonce: found %zu bytes, expected 1 to %zu", WHAT, nonce.size(), MAX_NONCE);

    // guest-components (attestation-agent/kbs_protocol/src/client/rcar_client.rs,
    // get_hash_algorithm) uses SHA-384 unless extra-params selects another hash.
    yyjson_val* extra = yyjson_obj_get(root, "extra-params");
    if (yyjson_is_str(extra)) {
        if (yyjson_get_len(extra) != 0)
            return Error::make(Errc::Format, "%s.extra-params: found the string \"%s\", expected \"\" or an object",
                               WHAT,
                               printable(std::string_view(yyjson_get_str(extra), yyjson_get_len(extra)), 40).c_str());
        return std::string(nonce);
    }
    TRY(proto::check_members(extra, "KBS auth reply.extra-params", {}, {"selected-hash-algorithm"}));
    if (yyjson_obj_size(extra) == 1) {
        std::string_view hash =
            TRY(proto::string_member(extra, "selected-hash-algorithm", "KBS auth reply.extra-params"));
        if (hash.size() != 6 || strncasecmp(hash.data(), "sha384", 6) != 0)
            return Error::make(Errc::Unsupported,
                               "%s.extra-params.selected-hash-algorithm: found \"%s\", expected \"sha384\" (the SNP "
                               "REPORT_DATA hash)",
                               WHAT, printable(hash, 40).c_str());
    }
    return std::string(nonce);
}

}  // namespace cvm::client::kbs_reply
