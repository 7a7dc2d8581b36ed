#include "redis_connection.h"

#include <hiredis.h>

#include <array>
#include <cstring>
#include <vector>

#include "base/secret.h"
#include "net/tls.h"

namespace cvm::broker {
namespace {

// A stream's own deadline must outlive a pooled connection; each command has its own (below).
constexpr int64_t STREAM_LIFETIME_MS = int64_t{100} * 365 * 86400 * 1000;
constexpr size_t MAX_ERROR_TEXT = 120;

// A RESP reply from hiredis's default reply functions, freed with it.
struct ReplyDeleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// A formatted command, wiped before it is freed (AUTH carries the password).
class FormattedCommand {
public:
    FormattedCommand(char* data, long long size) : m_data(data), m_size(size > 0 ? static_cast<size_t>(size) : 0) {}
    FormattedCommand(const FormattedCommand&) = delete;
    FormattedCommand& operator=(const FormattedCommand&) = delete;
    ~FormattedCommand()
    {
        if (m_data) {
            secure_wipe({reinterpret_cast<uint8_t*>(m_data), m_size});
            redisFreeCommand(m_data);
        }
    }
    bool ok() const { return m_data != nullptr && m_size > 0; }
    ByteView bytes() const { return {reinterpret_cast<const uint8_t*>(m_data), m_size}; }

private:
    char* m_data;
    size_t m_size;
};

ByteView to_bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A server's error text made safe for a log line: visible ASCII, bounded.
std::string printable(const char* text, size_t size)
{
    std::string out;
    for (size_t i = 0; i < size && out.size() < MAX_ERROR_TEXT; ++i)
        out += (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?';
    return out;
}

}  // namespace

RedisConnection::RedisConnection(const StoreConfig& config, size_t max_reply_bytes)
        : m_name(config.url.to_string()), m_timeout_ms(config.timeout_ms), m_max_reply_bytes(max_reply_bytes)
{
}

RedisConnection::~RedisConnection()
{
    if (m_reader)
        redisReaderFree(m_reader);
}

Error RedisConnection::fail(const Error& cause)
{
    m_broken = true;
    std::string_view m = cause.message();
    return Error::make(Errc::Unavailable, "store %s: %.*s", m_name.c_str(), static_cast<int>(m.size()), m.data());
}

Error RedisConnection::fail(const char* what)
{
    m_broken = true;
    return Error::make(Errc::Unavailable, "store %s: %s", m_name.c_str(), what);
}

Result<std::unique_ptr<RedisConnection>> RedisConnection::connect(const StoreConfig& config, size_t max_reply_bytes)
{
    std::unique_ptr<RedisConnection> c(new RedisConnection(config, max_reply_bytes));
    c->m_reader = redisReaderCreate();
    if (!c->m_reader)
        return c->fail("out of memory creating the RESP reader");
    // No command we send is answered with an array; refuse any with more than one element.
    c->m_reader->maxelements = 1;

    const RedisUrl& url = config.url;
    std::string peer = net::peer_name(url.host, url.port);
    auto fd = net::tcp_connect(url.host, url.port, config.timeout_ms, net::Deadline::after_ms(config.timeout_ms));
    if (!fd.ok())
        return c->fail(fd.error());
    net::IoTimeouts timeouts{config.timeout_ms, net::Deadline::after_ms(STREAM_LIFETIME_MS)};
    if (url.tls) {
        auto stream = net::tls_connect(fd.release_value(), config.server_name, peer, config.ca_file, timeouts);
        if (!stream.ok())
            return c->fail(stream.error());
        c->m_stream = stream.release_value();
    } else {
        c->m_stream = std::make_unique<net::PlainStream>(fd.release_value(), peer, timeouts);
    }

    if (config.password) {
        ByteView password = config.password->expose();
        std::vector<ByteView> argv{to_bytes("AUTH")};
        if (config.username)
            argv.push_back(to_bytes(*config.username));
        argv.push_back(password);
        TRY_PREFIX(c->command_argv(argv), "AUTH%s", config.username ? " (username from store.username)" : "");
    }
    if (url.db != 0)
        TRY_PREFIX(c->command({to_bytes("SELECT"), to_bytes(std::to_string(url.db))}), "SELECT %lld",
                   static_cast<long long>(url.db));
    return c;
}

Result<RedisReply> RedisConnection::command(std::initializer_list<ByteView> argv)
{
    return command_argv(std::span<const ByteView>(argv.begin(), argv.size()));
}

Result<RedisReply> RedisConnection::command_argv(std::span<const ByteView> argv)
{
    if (m_broken)
        return fail("the connection failed earlier");
    std::vector<const char*> args;
    std::vector<size_t> lengths;
    for (ByteView a : argv) {
        // An empty argument (a value of no bytes) may come with a null data pointer, which
        // hiredis would hand to memcpy (hiredis.c: redisFormatCommandArgv): undefined even for 0
        // bytes, and UBSan stops there.
        args.push_back(a.empty() ? "" : reinterpret_cast<const char*>(a.data()));
        lengths.push_back(a.size());
    }
    char* formatted = nullptr;
    long long size = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), args.data(), lengths.data());
    FormattedCommand request(formatted, size);
    if (!request.ok())
        return fail("out of memory formatting a command");
    return exchange(request.bytes());
}

Result<RedisReply> RedisConnection::exchange(ByteView request)
{
    net::Deadline deadline = net::Deadline::after_ms(m_timeout_ms);
    if (auto w = m_stream->write_all(request); !w.ok())
        return fail(w.error());
    std::array<uint8_t, 16 * 1024> buffer;
    for (;;) {
        void* raw = nullptr;
        if (redisReaderGetReply(m_reader, &raw) != REDIS_OK)
            return fail(
                ("protocol error in the reply: " + printable(m_reader->errstr, strlen(m_reader->errstr))).c_str());
        if (raw) {
            ReplyPtr reply(static_cast<redisReply*>(raw));
            RedisReply out;
            const auto* text = reinterpret_cast<const uint8_t*>(reply->str);
            switch (reply->type) {
            case REDIS_REPLY_ERROR:
                // The connection stays usable: the server answered, it just said no.
                return Error::make(Errc::Unavailable, "store %s answered %s", m_name.c_str(),
                                   printable(reply->str, reply->len).c_str());
            case REDIS_REPLY_STATUS:
                out.type = RedisReply::Type::Status;
                out.text.assign(text, text + reply->len);
                return out;
            case REDIS_REPLY_STRING:
                out.type = RedisReply::Type::String;
                out.text.assign(text, text + reply->len);
                return out;
            case REDIS_REPLY_INTEGER:
                out.type = RedisReply::Type::Integer;
                out.integer = reply->integer;
                return out;
            case REDIS_REPLY_NIL: return out;
            default: return fail("unexpected reply type (not a status, string, integer or nil)");
            }
        }
        if (deadline.remaining_ms() == 0)
            return fail(("no reply within store.timeout_ms = " + std::to_string(m_timeout_ms)).c_str());
        auto got = m_stream->read_some(buffer);
        if (!got.ok())
            return fail(got.error());
        size_t n = got.value();
        if (n == 0)
            return fail("the server closed the connection");
        // Bound what is buffered before hiredis sees it: a bulk length is only a claim.
        if (m_reader->len - m_reader->pos + n > m_max_reply_bytes)
            return fail(("reply larger than " + std::to_string(m_max_reply_bytes) + " bytes").c_str());
        if (redisReaderFeed(m_reader, reinterpret_cast<const char*>(buffer.data()), n) != REDIS_OK)
            return fail("out of memory buffering the reply");
    }
}

}  // namespace cvm::broker
