// One connection to a Redis server (or Valkey): RESP2 over our own transport.
//
// hiredis is used for the protocol only: redisFormatCommandArgv() writes each command and a
// redisReader parses each reply. The bytes travel over lib/net's streams (TCP, or TLS through
// mbedTLS with the server's certificate verified), so connecting, TLS, timeouts and error
// messages are the same as everywhere else in the project.
//
// Every failure is Errc::Unavailable: the store cannot do what was asked now, and the caller
// fails closed and retries later. The message names the server ("redis://host:port/db") and the
// cause: the connect or TLS error, a timeout, the peer closing, a protocol error, a reply over
// the size limit, or the RESP error reply the server sent (its first word, e.g. WRONGPASS,
// NOAUTH, READONLY, and its text). A password never appears in a message: it is copied from
// its SecretBytes only into the formatted AUTH command, which is wiped after sending.
//
// Not thread-safe: one thread uses a connection at a time (RedisStore's pool hands them out).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "net/io.h"
#include "store_config.h"

struct redisReader;

namespace cvm::broker {

// A reply we accept: the scalar types of RESP2. Arrays are refused by the reader's limits (no
// command we send answers with one).
struct RedisReply {
    enum class Type : uint8_t { Status, Integer, Nil, String };
    Type type{Type::Nil};
    Bytes text;  // Status and String
    int64_t integer{0};
};

class RedisConnection {
public:
    // Connects to `config.url`, runs the TLS handshake for rediss://, then AUTH when a password
    // is configured and SELECT when db is not 0. `max_reply_bytes` bounds the bytes one reply
    // may occupy before it is parsed (a bulk string's length prefix is not believed: the reply
    // is refused once more bytes than this are buffered, nothing larger is allocated).
    static Result<std::unique_ptr<RedisConnection>> connect(const StoreConfig& config, size_t max_reply_bytes);

    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;
    ~RedisConnection();

    // Sends one command and reads its reply within the configured timeout: no wait without
    // progress is longer than timeout_ms, and no read starts after timeout_ms have passed. A
    // RESP error reply is an error naming it; afterwards the connection is still usable. Any other
    // failure leaves it broken(): the caller must drop it.
    Result<RedisReply> command(std::initializer_list<ByteView> argv);
    Result<RedisReply> command_argv(std::span<const ByteView> argv);

    bool broken() const { return m_broken; }

private:
    RedisConnection(const StoreConfig& config, size_t max_reply_bytes);
    Result<RedisReply> exchange(ByteView request);
    Error fail(const Error& cause);
    Error fail(const char* what);

    std::string m_name;  // "redis://host:port/db" for messages
    int64_t m_timeout_ms;
    size_t m_max_reply_bytes;
    std::unique_ptr<net::Stream> m_stream;
    redisReader* m_reader{nullptr};
    bool m_broken{false};
};

}  // namespace cvm::broker
