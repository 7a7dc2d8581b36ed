// The volume records of one broker without Redis, in a file: `[volumes] state_file` (config.h).
//
// The file is JSON, {"cvmkb-state": 1, "entries": {"<store key>": "<b64 value>", ...}}, and
// holds only entries without expiry (the volume generations and the armed recoveries of
// volume_generations.h): set_if_absent and put with a TTL are Errc::Config. Every call takes an
// exclusive flock(2) on "<path>.lock", reads the file again, and a change writes it whole through
// write_file_atomic (temporary file, fsync, rename, directory fsync) before the lock is released,
// so `cvm broker volume ...` may change it while the broker runs, and a power loss leaves the old
// or the new contents. A missing file is an empty store; a file that does not parse, or whose
// lock or write fails, is Errc::Unavailable naming the path (the broker answers
// STORE_UNAVAILABLE and releases nothing), never taken as empty.
#pragma once

#include <string>

#include "store.h"

namespace cvm::broker {

class FileStore final : public Store {
public:
    explicit FileStore(std::string path) : m_path(std::move(path)) {}

    Result<bool> set_if_absent(std::string_view key, ByteView value, int64_t ttl_seconds) override;
    Result<void> put(std::string_view key, ByteView value, int64_t ttl_seconds) override;
    Result<std::optional<Bytes>> get(std::string_view key) override;
    Result<bool> compare_and_set(std::string_view key, std::optional<ByteView> expected,
                                 std::optional<ByteView> value) override;
    Result<void> ping() override;
    std::string describe() const override { return "file " + m_path; }

    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

}  // namespace cvm::broker
