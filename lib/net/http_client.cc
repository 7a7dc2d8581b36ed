#include "net/http_client.h"

#include <strings.h>

#include <array>
#include <memory>

#include "net/http_parser.h"
#include "net/url.h"

namespace cvm::net {

namespace {

// Headers the client writes itself; a caller setting them would make the message ambiguous.
constexpr std::array<const char*, 4> RESERVED_HEADERS = {"Host", "Content-Length", "Connection", "Transfer-Encoding"};

Result<std::string> request_head(const char* method, const Url& url, const ByteView* body, const Headers& headers)
{
    std::string head = std::string(method) + " " + url.target + " HTTP/1.1\r\nHost: " + url.authority() +
                       "\r\nUser-Agent: cvminit\r\nAccept: */*\r\nConnection: close\r\n";
    if (body)
        head += "Content-Length: " + std::to_string(body->size()) + "\r\n";
    for (const auto& h : headers.all()) {
        TRY(check_outgoing_header(h));
        for (const char* reserved : RESERVED_HEADERS) {
            if (strcasecmp(h.name.c_str(), reserved) == 0)
                return Error::make(Errc::Config, "the HTTP client sets the %s header itself", reserved);
        }
        head += h.name + ": " + h.value + "\r\n";
    }
    head += "\r\n";
    return head;
}

Result<HttpResponse> read_response(Stream& stream, const HttpLimits& limits, const std::string& peer)
{
    MessageParser parser(MessageKind::Response, limits, peer);
    std::array<uint8_t, 16384> buffer;
    for (;;) {
        size_t n = TRY(stream.read_some(buffer));
        if (n == 0) {
            TRY(parser.finish());
            break;
        }
        if (TRY(parser.feed(ByteView(buffer.data(), n))))
            break;
    }
    return parser.take_response();
}

Result<HttpResponse> exchange(const char* method, std::string_view url_text, const ByteView* body,
                              const Headers& headers, const HttpOptions& options)
{
    Url url = TRY(parse_url(url_text));
    std::string head = TRY(request_head(method, url, body, headers));
    std::string peer = peer_name(url.host, url.port);

    Deadline deadline = Deadline::after_ms(options.total_timeout_ms);
    IoTimeouts timeouts{options.io_timeout_ms, deadline};
    UniqueFd fd = TRY(tcp_connect(url.host, url.port, options.connect_timeout_ms, deadline));
    std::unique_ptr<Stream> stream;
    if (url.scheme == Scheme::Https)
        stream =
            TRY(tls_connect(std::move(fd), url.host, peer, options.ca_file, timeouts, options.client_identity.get()));
    else
        stream = std::make_unique<PlainStream>(std::move(fd), peer, timeouts);

    Result<void> sent = stream->write_all(as_bytes(head));
    if (sent.ok() && body)
        sent = stream->write_all(*body);
    if (!sent.ok()) {
        // A server may answer early (413) and close while we still send: prefer its answer.
        auto early = read_response(*stream, options.limits, peer);
        if (early.ok())
            return early;
        return sent.release_error();
    }
    return read_response(*stream, options.limits, peer);
}

}  // namespace

Result<HttpResponse> http_get(std::string_view url, const HttpOptions& options)
{
    return exchange("GET", url, nullptr, {}, options);
}

Result<HttpResponse> http_get(std::string_view url, const Headers& headers, const HttpOptions& options)
{
    return exchange("GET", url, nullptr, headers, options);
}

Result<HttpResponse> http_post(std::string_view url, ByteView body, const Headers& headers, const HttpOptions& options)
{
    return exchange("POST", url, &body, headers, options);
}

}  // namespace cvm::net
