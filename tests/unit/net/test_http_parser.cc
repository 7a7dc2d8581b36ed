#include <doctest.h>

#include <string>

#include "net/http_parser.h"

using namespace cvm;
using namespace cvm::net;

namespace {

// Feeds `text` in pieces of `step` bytes; returns the parser's final verdict.
Result<bool> feed_in_steps(MessageParser& parser, std::string_view text, size_t step)
{
    for (size_t at = 0; at < text.size(); at += step) {
        auto r = parser.feed(as_bytes(text.substr(at, step)));
        if (!r.ok() || r.value())
            return r;
    }
    return false;
}

std::string error_of(const Result<bool>& r)
{
    return r.ok() ? "" : std::string(r.error().message());
}

}  // namespace

TEST_CASE("a response with Content-Length, fed one byte at a time")
{
    MessageParser p(MessageKind::Response, {}, "peer:1");
    auto r = feed_in_steps(p,
                           "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\nX-Empty:\r\n"
                           "Content-Length: 5\r\n\r\nhello",
                           1);
    REQUIRE(r.ok());
    CHECK(r.value());
    auto resp = p.take_response();
    CHECK(resp.status == 200);
    CHECK(resp.content_type() == "application/pkix-cert");
    CHECK(resp.headers.get("content-type") == "application/pkix-cert");
    CHECK(resp.headers.get("x-empty") == "");
    CHECK(resp.headers.get("Content-Length") == "5");
    CHECK_FALSE(resp.headers.get("Retry-After"));
    CHECK(resp.body_text() == "hello");
}

TEST_CASE("chunked transfer encoding is decoded by llhttp, whatever the read boundaries")
{
    const std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n";
    for (size_t step : {size_t{1}, size_t{3}, size_t{7}, text.size()}) {
        CAPTURE(step);
        MessageParser p(MessageKind::Response, {}, "peer:1");
        auto r = feed_in_steps(p, text, step);
        REQUIRE_MESSAGE(r.ok(), error_of(r));
        CHECK(r.value());
        CHECK(p.take_response().body_text() == "Wikipedia in \r\n\r\nchunks.");
    }
}

TEST_CASE("a declared body over the limit is refused from the headers, before any body byte")
{
    HttpLimits limits;
    limits.max_body_bytes = 1000;
    MessageParser p(MessageKind::Response, limits, "kds.example:443");
    auto r = p.feed(as_bytes("HTTP/1.1 200 OK\r\nContent-Length: 4294967296000\r\n\r\n"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::Network);
    CHECK(p.failure() == ParseFailure::BodyTooLarge);
    CHECK(error_of(r).find("kds.example:443") != std::string::npos);
    CHECK(error_of(r).find("Content-Length 4294967296000") != std::string::npos);
}

TEST_CASE("chunked and close-delimited bodies are cut off at the limit")
{
    HttpLimits limits;
    limits.max_body_bytes = 8;
    MessageParser chunked(MessageKind::Response, limits, "p:1");
    auto r =
        chunked.feed(as_bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nfghij\r\n"));
    CHECK_FALSE(r.ok());
    CHECK(chunked.failure() == ParseFailure::BodyTooLarge);

    MessageParser eof(MessageKind::Response, limits, "p:1");
    CHECK(eof.feed(as_bytes("HTTP/1.1 200 OK\r\n\r\n12345678")).ok());
    CHECK_FALSE(eof.feed(as_bytes("9")).ok());
    CHECK(eof.failure() == ParseFailure::BodyTooLarge);
}

TEST_CASE("a body delimited by the end of the connection completes at finish()")
{
    MessageParser p(MessageKind::Response, {}, "p:1");
    CHECK_FALSE(p.feed(as_bytes("HTTP/1.1 200 OK\r\n\r\nall of it")).value());
    REQUIRE(p.finish().ok());
    CHECK(p.take_response().body_text() == "all of it");
}

TEST_CASE("truncated, malformed and unsupported responses are rejected")
{
    MessageParser truncated(MessageKind::Response, {}, "p:1");
    CHECK_FALSE(truncated.feed(as_bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")).value());
    auto fin = truncated.finish();
    REQUIRE_FALSE(fin.ok());
    CHECK(std::string(fin.error().message()).find("truncated") != std::string::npos);

    const char* malformed[] = {
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/9.9 200 OK\r\n\r\n",
        "SSH-2.0-OpenSSH\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
    };
    for (const char* text : malformed) {
        CAPTURE(text);
        MessageParser p(MessageKind::Response, {}, "p:1");
        auto r = p.feed(as_bytes(text));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Network);
        CHECK(p.failure() == ParseFailure::Malformed);
    }

    MessageParser interim(MessageKind::Response, {}, "p:1");
    CHECK_FALSE(interim.feed(as_bytes("HTTP/1.1 100 Continue\r\n\r\n")).ok());
    CHECK(interim.failure() == ParseFailure::Unsupported);
}

TEST_CASE("header section bounds: total bytes and number of fields")
{
    HttpLimits limits;
    limits.max_header_bytes = 64;
    MessageParser big(MessageKind::Response, limits, "p:1");
    auto r = big.feed(as_bytes("HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n"));
    CHECK_FALSE(r.ok());
    CHECK(big.failure() == ParseFailure::HeadersTooLarge);

    limits = {};
    limits.max_headers = 2;
    MessageParser many(MessageKind::Response, limits, "p:1");
    CHECK_FALSE(many.feed(as_bytes("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")).ok());
    CHECK(many.failure() == ParseFailure::HeadersTooLarge);
}

TEST_CASE("bytes after the end of the message are not parsed")
{
    MessageParser p(MessageKind::Response, {}, "p:1");
    auto r = p.feed(as_bytes("HTTP/1.1 204 No Content\r\n\r\nGARBAGE that is not HTTP"));
    REQUIRE(r.ok());
    CHECK(r.value());
    CHECK(p.take_response().status == 204);
}

TEST_CASE("a request: method, target, headers and body")
{
    MessageParser p(MessageKind::Request, {}, "127.0.0.1:5555");
    auto r = feed_in_steps(p,
                           "POST /cvmkb/v1/attest?x=1 HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
                           "Content-Length: 2\r\n\r\n{}",
                           5);
    REQUIRE(r.ok());
    CHECK(r.value());
    auto req = p.take_request();
    CHECK(req.method == "POST");
    CHECK(req.target == "/cvmkb/v1/attest?x=1");
    CHECK(req.headers.get("host") == "b");
    CHECK(std::string(req.body.begin(), req.body.end()) == "{}");
    CHECK(req.peer == "127.0.0.1:5555");
}

TEST_CASE("secret bodies are reserved whole, so a chunked body is never reallocated and left behind")
{
    HttpLimits limits;
    limits.max_body_bytes = 4096;
    const std::string text = "POST /v1/seal HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n";
    for (bool secret : {false, true}) {
        CAPTURE(secret);
        limits.secret_bodies = secret;
        MessageParser parser(MessageKind::Request, limits, "p:1");
        // One byte at a time: every chunk's bytes arrive separately.
        for (size_t i = 0; i < text.size(); ++i) {
            auto done = parser.feed(as_bytes(std::string_view(text).substr(i, 1)));
            REQUIRE(done.ok());
        }
        REQUIRE(parser.complete());
        HttpRequest request = parser.take_request();
        CHECK(std::string(request.body.begin(), request.body.end()) == "abcdefghij");
        if (secret)
            CHECK(request.body.capacity() == limits.max_body_bytes);  // reserved at the headers: one buffer
        else
            CHECK(request.body.capacity() < limits.max_body_bytes);
    }
}
