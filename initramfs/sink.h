// Sinks: where the bytes of an archive go, in order, without holding the archive in memory.
//
// The writer (cpio.h) writes into a Sink; a GzipSink (gzip.h) compresses into another Sink; a
// FileSink puts the result on disk atomically. A chain is finished once, from its head:
// finish() flushes what a sink buffers and then finishes the sink it forwards to.
#pragma once

#include <string>

#include "base/bytes.h"
#include "base/file.h"
#include "base/result.h"

namespace cvm::initramfs {

class Sink {
public:
    virtual ~Sink() = default;

    // Takes all of `data` or fails; after a failure the sink is unusable.
    virtual Result<void> write(ByteView data) = 0;

    // Ends the stream. No write() may follow.
    virtual Result<void> finish() = 0;
};

// Collects everything in memory (tests, and archives small enough to hold).
class BufferSink final : public Sink {
public:
    Result<void> write(ByteView data) override;
    Result<void> finish() override { return {}; }

    const Bytes& bytes() const { return m_bytes; }

private:
    Bytes m_bytes;
};

// Writes a new file at `path` through a temporary file in the same directory: finish() fsyncs it,
// renames it over `path` and fsyncs the directory, so `path` holds either its old contents or the
// complete new ones. Destroying an unfinished FileSink removes the temporary file.
class FileSink final : public Sink {
public:
    // Creates the temporary file with `mode`; Errc::Io naming `path` on failure.
    static Result<FileSink> create(const std::string& path, unsigned mode = 0644);

    FileSink(FileSink&& other) noexcept;
    FileSink& operator=(FileSink&&) = delete;
    FileSink(const FileSink&) = delete;
    ~FileSink() override;

    Result<void> write(ByteView data) override;
    Result<void> finish() override;

private:
    FileSink(std::string path, std::string tmp, UniqueFd fd);

    std::string m_path;
    std::string m_tmp;  // empty once renamed into place (or moved from)
    UniqueFd m_fd;
};

}  // namespace cvm::initramfs
