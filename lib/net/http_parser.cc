#include "net/http_parser.h"

#include <cstdarg>
#include <cstdio>

#include "base/secret.h"

namespace cvm::net {

namespace {

MessageParser* self(llhttp_t* p)
{
    return static_cast<MessageParser*>(p->data);
}

}  // namespace

MessageParser::MessageParser(MessageKind kind, const HttpLimits& limits, std::string peer)
        : m_limits(limits), m_peer(std::move(peer)), m_kind(kind)
{
    llhttp_settings_init(&m_settings);
    m_settings.on_message_begin = on_message_begin;
    m_settings.on_url = on_url;
    m_settings.on_status = on_status;
    m_settings.on_header_field = on_header_field;
    m_settings.on_header_value = on_header_value;
    m_settings.on_header_value_complete = on_header_value_complete;
    m_settings.on_headers_complete = on_headers_complete;
    m_settings.on_body = on_body;
    m_settings.on_message_complete = on_message_complete;
    llhttp_init(&m_parser, kind == MessageKind::Request ? HTTP_REQUEST : HTTP_RESPONSE, &m_settings);
    m_parser.data = this;
}

MessageParser::~MessageParser()
{
    if (m_limits.secret_bodies)
        secure_wipe(m_body);
}

int MessageParser::fail(ParseFailure why, const char* fmt, ...)
{
    char what[160];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    m_failure = why;
    m_error = Error::make(Errc::Network, "HTTP %s from %s refused: %s",
                          m_kind == MessageKind::Request ? "request" : "response", m_peer.c_str(), what);
    return -1;
}

int MessageParser::count_header_bytes(size_t n)
{
    m_header_bytes += n;
    if (m_header_bytes > m_limits.max_header_bytes)
        return fail(ParseFailure::HeadersTooLarge, "header section larger than %zu bytes", m_limits.max_header_bytes);
    return 0;
}

int MessageParser::on_message_begin(llhttp_t* p)
{
    // A second message on the same bytes (pipelining) is never expected: we pause after the first.
    return self(p)->m_complete ? -1 : 0;
}

int MessageParser::on_url(llhttp_t* p, const char* at, size_t length)
{
    MessageParser* s = self(p);
    if (s->count_header_bytes(length) != 0)
        return -1;
    s->m_target.append(at, length);
    return 0;
}

int MessageParser::on_status(llhttp_t* p, const char*, size_t length)
{
    return self(p)->count_header_bytes(length);  // the reason phrase is not kept
}

int MessageParser::on_header_field(llhttp_t* p, const char* at, size_t length)
{
    MessageParser* s = self(p);
    if (s->count_header_bytes(length) != 0)
        return -1;
    s->m_field.append(at, length);
    return 0;
}

int MessageParser::on_header_value(llhttp_t* p, const char* at, size_t length)
{
    MessageParser* s = self(p);
    if (s->count_header_bytes(length) != 0)
        return -1;
    s->m_value.append(at, length);
    return 0;
}

int MessageParser::on_header_value_complete(llhttp_t* p)
{
    MessageParser* s = self(p);
    if (s->m_headers.size() >= s->m_limits.max_headers)
        return s->fail(ParseFailure::HeadersTooLarge, "more than %zu header fields", s->m_limits.max_headers);
    s->m_headers.add(std::move(s->m_field), std::move(s->m_value));
    s->m_field.clear();
    s->m_value.clear();
    return 0;
}

int MessageParser::on_headers_complete(llhttp_t* p)
{
    MessageParser* s = self(p);
    if (s->m_kind == MessageKind::Response && p->status_code < 200)
        return s->fail(ParseFailure::Unsupported, "interim %u response (1xx) not supported", p->status_code);
    if (p->upgrade)
        return s->fail(ParseFailure::Unsupported, "protocol upgrades are not supported");
    if (p->flags & F_CONTENT_LENGTH) {
        if (p->content_length > s->m_limits.max_body_bytes)
            return s->fail(ParseFailure::BodyTooLarge, "Content-Length %llu is over the %zu bytes allowed",
                           static_cast<unsigned long long>(p->content_length), s->m_limits.max_body_bytes);
        s->m_body.reserve(static_cast<size_t>(p->content_length));
    } else if (s->m_limits.secret_bodies) {
        s->m_body.reserve(s->m_limits.max_body_bytes);  // chunked: never reallocated (HttpLimits)
    }
    s->m_headers_done = true;
    return 0;
}

int MessageParser::on_body(llhttp_t* p, const char* at, size_t length)
{
    MessageParser* s = self(p);
    if (length > s->m_limits.max_body_bytes - s->m_body.size())
        return s->fail(ParseFailure::BodyTooLarge, "body larger than the %zu bytes allowed",
                       s->m_limits.max_body_bytes);
    s->m_body.insert(s->m_body.end(), at, at + length);
    return 0;
}

int MessageParser::on_message_complete(llhttp_t* p)
{
    self(p)->m_complete = true;
    return HPE_PAUSED;  // stop at the end of this message; anything after it is not ours to parse
}

Result<bool> MessageParser::feed(ByteView data)
{
    if (m_complete)
        return true;
    llhttp_errno_t rc = llhttp_execute(&m_parser, reinterpret_cast<const char*>(data.data()), data.size());
    if (rc == HPE_OK)
        return false;
    if (rc == HPE_PAUSED && m_complete)
        return true;
    if (m_failure != ParseFailure::None)
        return m_error;
    m_failure = ParseFailure::Malformed;
    const char* reason = llhttp_get_error_reason(&m_parser);
    return Error::make(Errc::Network, "malformed HTTP %s from %s: %s (%s)",
                       m_kind == MessageKind::Request ? "request" : "response", m_peer.c_str(),
                       reason ? reason : "parse error", llhttp_errno_name(rc));
}

Result<void> MessageParser::finish()
{
    if (m_complete)
        return {};
    llhttp_errno_t rc = llhttp_finish(&m_parser);
    if ((rc == HPE_OK || rc == HPE_PAUSED) && m_complete)
        return {};
    if (m_failure != ParseFailure::None)
        return m_error;
    m_failure = ParseFailure::Malformed;
    return Error::make(Errc::Network, "HTTP %s from %s is truncated: the connection closed before its end",
                       m_kind == MessageKind::Request ? "request" : "response", m_peer.c_str());
}

HttpResponse MessageParser::take_response()
{
    return {m_parser.status_code, std::move(m_headers), std::move(m_body)};
}

HttpRequest MessageParser::take_request()
{
    const char* method = llhttp_method_name(static_cast<llhttp_method_t>(m_parser.method));
    return {method, std::move(m_target), std::move(m_headers), std::move(m_body), m_peer, {}};
}

}  // namespace cvm::net
