// The data volume's first boot, interrupted by a power cut after every possible number of writes:
// each time, the next boot completes it, and the result is whole (one valid header without the
// formatting token, a keyslot cryptsetup opens, a filesystem e2fsck finds nothing to fix in).
#include <doctest.h>

#include <memory>
#include <set>
#include <string>

#include "luks2_fixture.h"
#include "storage/crypt_device.h"
#include "storage/data_volume.h"
#include "storage_fixture.h"

using namespace cvm;
using namespace cvm::storage;

namespace {

const std::string PASSPHRASE = "the broker's volume key for data";

ByteView passphrase()
{
    return {reinterpret_cast<const uint8_t*>(PASSPHRASE.data()), PASSPHRASE.size()};
}

// A disk that loses power after `budget` writes: the writes before reach it, nothing after does.
class PowerCut final : public BlockDevice {
public:
    PowerCut(FileBlockDevice inner, int budget) : m_inner(std::move(inner)), m_budget(budget) {}
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
    FileBlockDevice m_inner;
    int m_budget;
    int m_writes{0};
};

// Copies the plaintext of `image`'s volume to `out` (for e2fsck).
void dump_plaintext(const test::TempImage& image, const test::TempImage& out)
{
    auto dev = image.open();
    auto inspection = luks2::inspect(dev);
    REQUIRE(inspection.ok());
    auto key = luks2::unlock(dev, *inspection->volume, passphrase());
    REQUIRE(key.ok());
    auto view = CryptBlockDevice::open(dev, *inspection->volume, key.value());
    REQUIRE(view.ok());
    auto sink = out.open();
    Bytes chunk(1 << 20);
    for (uint64_t at = 0; at < view->size(); at += chunk.size()) {
        REQUIRE(view->read_at(at, chunk).ok());
        REQUIRE(sink.write_at(at, chunk).ok());
    }
}

}  // namespace

TEST_CASE("data volume: a power cut at every write of the first boot is completed by the next boot")
{
    REQUIRE_TOOL(e2fsck, "e2fsck");
    std::string cryptsetup = test::cryptsetup_path();
    constexpr uint64_t SIZE = 32 << 20;  // the 16 MiB segment is ext4's minimum
    UserspaceActivator crypt;
    std::set<std::string> resumed_from;
    int budget = 0;
    for (;; ++budget) {
        test::TempImage image(SIZE);
        {
            PowerCut dev(image.open(), budget);
            auto first = open_or_format(dev, passphrase(), crypt);
            if (first.ok()) {
                CHECK(first->formatted_now);
                break;
            }
            CHECK(std::string(first.error().message()).find("power cut") != std::string::npos);
        }
        auto dev = image.open();
        auto second = open_or_format(dev, passphrase(), crypt);
        INFO("power cut after ", budget, " writes");
        if (!second.ok())
            FAIL(std::string(second.error().message()));
        resumed_from.insert(second->summary.substr(second->summary.find(": ") + 2, 12));

        auto inspection = luks2::inspect(dev);
        REQUIRE(inspection.ok());
        CHECK(inspection->state == luks2::HeaderState::Valid);
        CHECK_FALSE(inspection->volume->formatting);
        CHECK_FALSE(inspection->repair_secondary);
        auto third = open_or_format(dev, passphrase(), crypt);
        REQUIRE(third.ok());
        CHECK_FALSE(third->formatted_now);
        if (!cryptsetup.empty()) {
            test::TempImage key_file(0);
            key_file.write_file(passphrase());
            CHECK(test::run(cryptsetup + " open --test-passphrase --key-file " + key_file.path() + " " +
                            image.path()) == 0);
        }
        test::TempImage plaintext(third->plaintext->size());
        third.value().plaintext.reset();
        dump_plaintext(image, plaintext);
        test::check_fsck_clean(e2fsck, plaintext.path());
    }
    MESSAGE("the first boot makes ", budget, " writes; the next boot completed it after a cut at each");
    CHECK(budget > 5);
    // Every path of the recovery was taken: a blank header formatted anew, an unfinished format
    // resumed, and an interrupted finish repaired.
    CHECK(resumed_from.count("formatted LU") == 1);
    CHECK(resumed_from.count("resumed an u") == 1);
    CHECK(resumed_from.count("repaired the") == 1);
}
