#include "initramfs/gzip.h"

#include <algorithm>
#include <array>
#include <climits>
#include <zlib.h>

namespace cvm::initramfs {

namespace {

// RFC 1952 section 2.3.1: OS 3 = Unix. Fixed rather than zlib's compile-time guess.
constexpr int GZIP_OS_UNIX = 3;
constexpr int WINDOW_BITS_GZIP = 15 + 16;  // 32 KiB window; +16 asks zlib for a gzip wrapper
constexpr int MEM_LEVEL = 8;               // zlib's default
constexpr size_t OUT_CHUNK = 64 * 1024;
// zlib counts in uInt; feed it slices no larger than that.
constexpr size_t MAX_ZLIB_SLICE = UINT_MAX;

}  // namespace

struct GzipSink::Stream {
    z_stream z{};
    gz_header header{};  // zlib keeps a pointer to it until the header is written
    bool open{false};
    std::array<uint8_t, OUT_CHUNK> out{};

    ~Stream()
    {
        if (open)
            deflateEnd(&z);
    }
};

GzipSink::GzipSink(Sink& next, std::unique_ptr<Stream> stream) : m_next(&next), m_stream(std::move(stream)) {}

GzipSink::GzipSink(GzipSink&&) noexcept = default;

GzipSink::~GzipSink() = default;

Result<GzipSink> GzipSink::create(Sink& next)
{
    auto s = std::make_unique<Stream>();
    int rc = deflateInit2(&s->z, Z_BEST_COMPRESSION, Z_DEFLATED, WINDOW_BITS_GZIP, MEM_LEVEL, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK)
        return Error::make(Errc::Io, "cannot start gzip compression: zlib error %d", rc);
    s->open = true;
    // MTIME 0 ("no time stamp is available", RFC 1952 2.3.1), no FNAME, no FCOMMENT, no FEXTRA.
    s->header.time = 0;
    s->header.os = GZIP_OS_UNIX;
    rc = deflateSetHeader(&s->z, &s->header);
    if (rc != Z_OK)
        return Error::make(Errc::Io, "cannot set the gzip header: zlib error %d", rc);
    return GzipSink(next, std::move(s));
}

Result<void> GzipSink::pump(int flush)
{
    z_stream& z = m_stream->z;
    for (;;) {
        z.next_out = m_stream->out.data();
        z.avail_out = static_cast<uInt>(m_stream->out.size());
        int rc = deflate(&z, flush);
        if (rc == Z_STREAM_ERROR)
            return Error::make(Errc::Io, "gzip compression failed: zlib error %d", rc);
        size_t have = m_stream->out.size() - z.avail_out;
        if (have != 0)
            TRY(m_next->write(ByteView(m_stream->out).first(have)));
        // Z_NO_FLUSH is done once zlib stops filling the buffer (all input taken); Z_FINISH
        // once the trailer is out.
        if (flush == Z_FINISH ? rc == Z_STREAM_END : z.avail_out != 0)
            return {};
    }
}

Result<void> GzipSink::write(ByteView data)
{
    while (!data.empty()) {
        size_t slice = std::min(data.size(), MAX_ZLIB_SLICE);
        // zlib's API takes a non-const pointer but does not write through next_in.
        m_stream->z.next_in = const_cast<Bytef*>(data.data());
        m_stream->z.avail_in = static_cast<uInt>(slice);
        TRY(pump(Z_NO_FLUSH));
        data = data.subspan(slice);
    }
    return {};
}

Result<void> GzipSink::finish()
{
    m_stream->z.next_in = nullptr;
    m_stream->z.avail_in = 0;
    TRY(pump(Z_FINISH));
    return m_next->finish();
}

bool is_gzip(ByteView data)
{
    return data.size() >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

Result<Bytes> gunzip(ByteView data, size_t max_size)
{
    if (data.size() > MAX_ZLIB_SLICE)
        return Error::make(Errc::Format, "gzip input of %zu bytes is too large", data.size());
    z_stream z{};
    if (inflateInit2(&z, WINDOW_BITS_GZIP) != Z_OK)
        return Error::make(Errc::Io, "cannot start gzip decompression");
    struct End {
        z_stream* z;
        ~End() { inflateEnd(z); }
    } end{&z};

    z.next_in = const_cast<Bytef*>(data.data());
    z.avail_in = static_cast<uInt>(data.size());
    Bytes out;
    // One spare byte past the bound tells "exactly max_size" from "more than max_size".
    const size_t cap = max_size == SIZE_MAX ? max_size : max_size + 1;
    size_t used = 0;
    for (;;) {
        if (used == out.size()) {
            if (out.size() >= cap || out.size() >= MAX_ZLIB_SLICE)
                return Error::make(Errc::Format, "gzip data inflates past the %zu bytes allowed", max_size);
            out.resize(std::min({cap, MAX_ZLIB_SLICE, std::max<size_t>(out.size() * 2, OUT_CHUNK)}));
        }
        z.next_out = out.data() + used;
        z.avail_out = static_cast<uInt>(out.size() - used);
        int rc = inflate(&z, Z_NO_FLUSH);
        used = out.size() - z.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_BUF_ERROR && z.avail_in == 0)
            return Error::make(Errc::Format, "gzip data is truncated after %zu input bytes", data.size());
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return Error::make(Errc::Format, "gzip data is corrupt: %s", z.msg ? z.msg : "zlib error");
    }
    if (used > max_size)
        return Error::make(Errc::Format, "gzip data inflates past the %zu bytes allowed", max_size);
    size_t consumed = data.size() - z.avail_in;
    if (!all_zero(data.subspan(consumed)))
        return Error::make(Errc::Format, "%zu bytes after the gzip member at offset 0x%zx are not zero padding",
                           data.size() - consumed, consumed);
    out.resize(used);
    return out;
}

}  // namespace cvm::initramfs
