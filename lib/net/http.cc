#include "net/http.h"

#include <cctype>
#include <cstring>

namespace cvm::net {

namespace {

// RFC 9110 §5.6.2: token = 1*tchar
bool is_tchar(char c)
{
    return isalnum(static_cast<unsigned char>(c)) || strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

}  // namespace

std::optional<std::string_view> Headers::get(std::string_view name) const
{
    for (const auto& h : m_headers) {
        if (equals_ignore_case(h.name, name))
            return std::string_view(h.value);
    }
    return std::nullopt;
}

Result<void> check_outgoing_header(const Header& header)
{
    if (header.name.empty())
        return Error::make(Errc::Config, "empty HTTP header name");
    for (char c : header.name) {
        if (c == '\0' || !is_tchar(c))
            return Error::make(Errc::Config, "invalid character in HTTP header name \"%.40s\"", header.name.c_str());
    }
    for (char c : header.value) {
        if (c == '\r' || c == '\n' || c == '\0')
            return Error::make(Errc::Config, "CR, LF or NUL in the value of HTTP header %.40s", header.name.c_str());
    }
    return {};
}

std::string_view reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

}  // namespace cvm::net
