// libFuzzer harness: the parsers of Trustee's KBS replies (client/kbs_reply.h) that KbsSession
// runs on what a KBS sends back: parse_challenge on the auth reply's body, session_cookie on its
// Set-Cookie headers, refusal (the problem detail) on a reply that is not a success.
//
// Input, readable so that the seeds are real replies: a first line with the HTTP status (its
// decimal digits; outside 100 to 599, 100 plus the number modulo 500), then "Name: value" header
// lines up to an empty line, then the body. Invariants: never a crash; a nonce of 1 to MAX_NONCE
// bytes; a cookie "kbs-session-id=<value>" of 1 to MAX_COOKIE_VALUE cookie-octets that one header
// carries; a refusal's message all printable ASCII (no control bytes from the KBS on the console),
// Errc::Unavailable exactly for 5xx, 408 and 429 and Errc::Policy otherwise.
#include <cstdlib>
#include <string>
#include <string_view>

#include "client/kbs_reply.h"
#include "net/http.h"

namespace {

namespace reply = cvm::client::kbs_reply;

// Splits off the text up to the next '\n' (the whole text when there is none).
std::string_view next_line(std::string_view& text)
{
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    return line;
}

int parse_status(std::string_view line)
{
    unsigned value = 0;
    for (char c : line.substr(0, 6)) {
        if (c >= '0' && c <= '9')
            value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return static_cast<int>(value >= 100 && value <= 599 ? value : 100 + value % 500);
}

bool cookie_octet(char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

void check_cookie(const cvm::net::Headers& headers)
{
    auto cookie = reply::session_cookie("KBS auth", headers);
    if (!cookie.ok())
        return;
    std::string_view text = cookie.value();
    std::string prefix = std::string(reply::SESSION_COOKIE) + "=";
    if (text.substr(0, prefix.size()) != prefix)
        abort();
    std::string_view value = text.substr(prefix.size());
    if (value.empty() || value.size() > reply::MAX_COOKIE_VALUE)
        abort();
    for (char c : value) {
        if (!cookie_octet(c))
            abort();
    }
    bool carried = false;
    for (const cvm::net::Header& h : headers.all())
        carried = carried || h.value.find(text) != std::string::npos;
    if (!carried)
        abort();
}

void check_refusal(const cvm::net::HttpResponse& response)
{
    if (reply::is_success(response.status) != (response.status >= 200 && response.status <= 299))
        abort();
    if (reply::is_success(response.status))
        return;
    cvm::Error error = reply::refusal("KBS attest", response);
    for (char c : std::string_view(error.message())) {
        if (c < 0x20 || c > 0x7e)
            abort();
    }
    int s = response.status;
    bool unavailable = s >= 500 || s == 408 || s == 429;
    if (error.code() != (unavailable ? cvm::Errc::Unavailable : cvm::Errc::Policy))
        abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    cvm::net::HttpResponse response;
    response.status = parse_status(next_line(text));
    while (!text.empty()) {
        std::string_view line = next_line(text);
        if (line.empty())
            break;
        size_t colon = line.find(':');
        std::string_view name = line.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ')
            value.remove_prefix(1);
        response.headers.add(std::string(name), std::string(value));
    }
    response.body.assign(text.begin(), text.end());

    auto nonce = reply::parse_challenge(text);
    if (nonce.ok() && (nonce.value().empty() || nonce.value().size() > reply::MAX_NONCE))
        abort();
    check_cookie(response.headers);
    check_refusal(response);
    return 0;
}
