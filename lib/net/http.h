// HTTP/1.1 messages as the client returns them and the server hands them to its handler.
// Header names compare case-insensitively (RFC 9110 §5.1); values are kept as received, minus
// surrounding whitespace (which llhttp strips).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::net {

struct Header {
    std::string name;
    std::string value;
};

class Headers {
public:
    Headers() = default;
    Headers(std::initializer_list<Header> headers) : m_headers(headers) {}

    void add(std::string name, std::string value) { m_headers.push_back({std::move(name), std::move(value)}); }

    // The first header called `name`, any case.
    std::optional<std::string_view> get(std::string_view name) const;

    const std::vector<Header>& all() const { return m_headers; }
    size_t size() const { return m_headers.size(); }

private:
    std::vector<Header> m_headers;
};

// Fails (Errc::Config) for a header a caller wants to send whose name is not an RFC 9110 token
// or whose value holds CR, LF or NUL: such a header could inject lines into the message.
Result<void> check_outgoing_header(const Header& header);

struct HttpResponse {
    int status{0};
    Headers headers;
    Bytes body;

    std::optional<std::string_view> content_type() const { return headers.get("Content-Type"); }
    std::string_view body_text() const { return {reinterpret_cast<const char*>(body.data()), body.size()}; }
};

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // as in the request line: "/path?query"
    Headers headers;
    Bytes body;
    std::string peer;  // "address:port" of the client
    // The DER certificate a TLS client presented (ServerOptions::client_certificates), empty when
    // none: the handshake proved that the client holds its private key, and nothing else.
    Bytes peer_certificate;
};

// Bounds on one parsed message, applied before anything is allocated for it.
struct HttpLimits {
    size_t max_header_bytes = 16 * 1024;  // start line plus all header names and values
    size_t max_headers = 100;
    size_t max_body_bytes = 1024 * 1024;
    // The bodies may hold secrets (the agent's /v1/seal and /v1/unseal): the parser reserves the
    // whole body up front (max_body_bytes for a chunked one) so that it is never reallocated and
    // left behind in freed memory, and wipes a body it still holds when destroyed; the server
    // wipes its read buffer, the request body, the response body and the serialized answer once
    // the answer is written (http_server.h).
    bool secret_bodies = false;
};

// The standard reason phrase of a status code ("Not Found"), or "" for unusual ones.
std::string_view reason_phrase(int status);

}  // namespace cvm::net
