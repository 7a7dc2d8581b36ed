// HTTP/1.1 message parsing through llhttp (strict mode: no lenient flags). Every byte received
// from a peer goes through here; nothing else in this layer parses HTTP.
//
// A parser takes one message, fed incrementally as bytes arrive. It enforces HttpLimits while
// parsing: a declared Content-Length over the body limit is refused from the headers, before any
// body byte is read or stored; chunked and close-delimited bodies are refused as soon as they
// grow past it. Bytes after the end of the message are ignored (we close the connection).
// Transfer-Encoding: chunked is decoded by llhttp; body() is the payload.
#pragma once

#include <llhttp.h>

#include <string>

#include "net/http.h"

namespace cvm::net {

enum class MessageKind : uint8_t { Request, Response };

// Why a parse failed, for a server choosing its answer (400, 431, 413).
enum class ParseFailure : uint8_t { None, Malformed, HeadersTooLarge, BodyTooLarge, Unsupported };

class MessageParser {
public:
    // `peer` names the other side in errors ("kdsintf.amd.com:443").
    MessageParser(MessageKind kind, const HttpLimits& limits, std::string peer);
    MessageParser(const MessageParser&) = delete;
    MessageParser& operator=(const MessageParser&) = delete;
    ~MessageParser();  // wipes a body it still holds when HttpLimits::secret_bodies

    // Parses the next bytes; true once the message is complete. Fails with Errc::Network naming
    // the peer and what was wrong (llhttp's error name and reason, or the limit exceeded).
    Result<bool> feed(ByteView data);

    // The peer closed its side: completes a close-delimited body, otherwise fails because the
    // message is truncated.
    Result<void> finish();

    bool complete() const { return m_complete; }
    // The header section has ended (the body, if any, follows); body bytes decoded so far.
    bool headers_complete() const { return m_headers_done; }
    size_t body_size() const { return m_body.size(); }
    ParseFailure failure() const { return m_failure; }

    // The parsed message; valid once complete(). Moves the fields out.
    HttpResponse take_response();
    HttpRequest take_request();

private:
    static int on_message_begin(llhttp_t* p);
    static int on_url(llhttp_t* p, const char* at, size_t length);
    static int on_status(llhttp_t* p, const char* at, size_t length);
    static int on_header_field(llhttp_t* p, const char* at, size_t length);
    static int on_header_value(llhttp_t* p, const char* at, size_t length);
    static int on_header_value_complete(llhttp_t* p);
    static int on_headers_complete(llhttp_t* p);
    static int on_body(llhttp_t* p, const char* at, size_t length);
    static int on_message_complete(llhttp_t* p);

    [[gnu::format(printf, 3, 4)]] int fail(ParseFailure why, const char* fmt, ...);
    int count_header_bytes(size_t n);

    llhttp_settings_t m_settings{};
    llhttp_t m_parser{};
    HttpLimits m_limits;
    std::string m_peer;
    MessageKind m_kind;

    std::string m_target;
    Headers m_headers;
    std::string m_field;
    std::string m_value;
    Bytes m_body;
    size_t m_header_bytes{0};
    bool m_headers_done{false};
    bool m_complete{false};
    ParseFailure m_failure{ParseFailure::None};
    Error m_error{};
};

}  // namespace cvm::net
