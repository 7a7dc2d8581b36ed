// Shared by the data-volume tests (first boot, later boots, adoption): the secrets a boot is given,
// one boot as the agent makes it, a disk that loses power after a number of writes, disk
// snapshots, and the sweep that cuts a boot after every possible number of writes.
#pragma once

#include <doctest.h>

#include <set>
#include <string>

#include "luks2_fixture.h"
#include "storage/crypt_device.h"
#include "storage/data_volume.h"
#include "storage_fixture.h"

namespace cvm::test {

inline storage::VolumeSecrets secrets_of(const std::string& passphrase, const std::string& recovery = "")
{
    storage::VolumeSecrets out;
    out.passphrase = [passphrase](std::string_view) -> Result<SecretBytes> {
        return SecretBytes::copy_of(as_bytes(passphrase));
    };
    if (!recovery.empty())
        out.recovery = [recovery](std::string_view) -> Result<SecretBytes> {
            return SecretBytes::copy_of(as_bytes(recovery));
        };
    return out;
}

// One boot as the agent makes it: inspect, report the generation found (0 when blank, or for a
// volume without a token), open with the reported generation + 1.
inline Result<storage::OpenedVolume> boot(storage::BlockDevice& dev, storage::Activator& crypt,
                                          const storage::VolumeSecrets& secrets)
{
    storage::luks2::Inspection seen = TRY(storage::luks2::inspect(dev));
    uint64_t reported = seen.volume ? seen.volume->generation : 0;
    return storage::open_or_format(dev, seen, reported + 1, secrets, crypt);
}

// A disk that loses power after `budget` writes: the writes before reach it, nothing after does
// (a flush after the last one fails too).
class PowerCut final : public storage::BlockDevice {
public:
    PowerCut(storage::FileBlockDevice inner, int budget) : m_inner(std::move(inner)), m_budget(budget) {}
    uint64_t size() const override { return m_inner.size(); }
    Result<void> read_at(uint64_t offset, std::span<uint8_t> out) override { return m_inner.read_at(offset, out); }
    Result<void> write_at(uint64_t offset, ByteView data) override
    {
        if (m_writes == m_budget)
            return Error::make(Errc::Io, "power cut after %d writes", m_budget);
        ++m_writes;
        return m_inner.write_at(offset, data);
    }
    Result<void> flush() override
    {
        if (m_writes == m_budget)
            return Error::make(Errc::Io, "power cut after %d writes", m_budget);
        return m_inner.flush();
    }
    const std::string& name() const override { return m_inner.name(); }

private:
    storage::FileBlockDevice m_inner;
    int m_budget;
    int m_writes{0};
};

// The whole image, to put back (a disk snapshot).
inline Bytes snapshot(const TempImage& image)
{
    auto dev = image.open();
    Bytes out(dev.size());
    REQUIRE(dev.read_at(0, out).ok());
    return out;
}

// The start of a boot's summary after "<device>: ", 12 characters: which path it took.
inline std::string path_of(const storage::OpenedVolume& opened)
{
    return opened.summary.substr(opened.summary.find(": ") + 2, 12);
}

// Cuts `op` (one boot on a copy of `start`) after every number of writes until it completes;
// after each cut the next boot (`after`) must succeed and leave one valid, repaired header.
// Returns how many writes the uncut boot makes; `paths` gets the path each next boot took.
inline int sweep(const Bytes& start, const storage::VolumeSecrets& op, const storage::VolumeSecrets& after,
                 std::set<std::string>& paths)
{
    storage::UserspaceActivator crypt;
    for (int budget = 0;; ++budget) {
        INFO("power cut after ", budget, " writes");
        TempImage image(0);
        image.write_file(start);
        {
            PowerCut dev(image.open(), budget);
            auto cut = boot(dev, crypt, op);
            if (cut.ok())
                return budget;
            CHECK(contains(cut.error().message(), "power cut"));
        }
        auto dev = image.open();
        auto next = boot(dev, crypt, after);
        REQUIRE_MESSAGE(next.ok(), why(next));
        paths.insert(path_of(next.value()));
        auto inspection = storage::luks2::inspect(dev);
        REQUIRE(inspection.ok());
        CHECK_FALSE(inspection->repair_secondary);
        CHECK_FALSE(inspection->volume->adopt);
        CHECK(inspection->volume->generation == next->generation);
    }
}

}  // namespace cvm::test
