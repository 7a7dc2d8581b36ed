// gzip (RFC 1952) through zlib: a compressing Sink for `cvm initramfs --compress gzip`, and a
// bounded decompressor for reading such an initramfs back.
//
// The kernel unpacks a gzip'd cpio as it does a plain one (Documentation/driver-api/
// early-userspace/buffer-format.rst: "cpio_gzip_archive := GZIP(cpio_archive)"). The compressed
// bytes are part of the launch measurement, so everything that could vary is fixed: one member,
// MTIME 0, no file name, OS 3 (Unix) whatever the build host, XFL 2 for level 9, window 32 KiB,
// memLevel 8, the default strategy, and zlib 1.3.1 built from the tarball pinned in
// scripts/setup. A different zlib version may compress differently; the cpio inside stays the same.
#pragma once

#include <memory>

#include "base/bytes.h"
#include "base/result.h"
#include "initramfs/sink.h"

namespace cvm::initramfs {

// Compresses everything written into one gzip member and writes it to `next`, which must outlive
// the GzipSink. finish() ends the member (CRC-32, ISIZE) and then finishes `next`.
class GzipSink final : public Sink {
public:
    static Result<GzipSink> create(Sink& next);

    GzipSink(GzipSink&&) noexcept;
    GzipSink& operator=(GzipSink&&) = delete;
    ~GzipSink() override;

    Result<void> write(ByteView data) override;
    Result<void> finish() override;

    struct Stream;  // zlib's z_stream, kept at a fixed address as zlib requires

private:
    GzipSink(Sink& next, std::unique_ptr<Stream> stream);
    Result<void> pump(int flush);

    Sink* m_next;
    std::unique_ptr<Stream> m_stream;
};

// True when `data` starts with the gzip magic (1f 8b).
bool is_gzip(ByteView data);

// Decompresses one gzip member. Errc::Format on corrupt input, a second member or any bytes after
// the member other than zero padding (which the kernel skips between archives), and on output
// larger than `max_size` bytes (checked as it inflates, before it allocates past the bound).
Result<Bytes> gunzip(ByteView data, size_t max_size);

}  // namespace cvm::initramfs
