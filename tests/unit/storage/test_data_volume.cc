// The data volume's first boot, interrupted by a power cut after every possible number of writes:
// each time, the next boot completes it, and the result is whole (one valid header in state
// ready, a keyslot cryptsetup opens, a filesystem e2fsck finds nothing to fix in). Then the later
// boots' rewrites (the generation bump, the re-enrolment after a recovery) cut the same way, the
// generation rule, the recovery keyslot, and a host-edited header refused with the disk untouched.
#include <doctest.h>

#include <memory>
#include <set>
#include <string>

#include "data_volume_fixture.h"
#include "luks2_fixture.h"
#include "storage/crypt_device.h"
#include "storage/data_volume.h"
#include "storage_fixture.h"

using namespace cvm;
using namespace cvm::storage;
using test::boot;
using test::contains;
using test::PowerCut;
using test::secrets_of;
using test::snapshot;
using test::sweep;

namespace {

const std::string PASSPHRASE = "the broker's volume key for data";

ByteView passphrase()
{
    return {reinterpret_cast<const uint8_t*>(PASSPHRASE.data()), PASSPHRASE.size()};
}

Result<OpenedVolume> boot(BlockDevice& dev, Activator& crypt)
{
    return test::boot(dev, crypt, secrets_of(PASSPHRASE));
}

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
            auto first = boot(dev, crypt);
            if (first.ok()) {
                CHECK(first->formatted_now);
                break;
            }
            CHECK(std::string(first.error().message()).find("power cut") != std::string::npos);
        }
        auto dev = image.open();
        auto second = boot(dev, crypt);
        INFO("power cut after ", budget, " writes");
        if (!second.ok())
            FAIL(std::string(second.error().message()));
        resumed_from.insert(test::path_of(second.value()));

        auto inspection = luks2::inspect(dev);
        REQUIRE(inspection.ok());
        CHECK(inspection->state == luks2::HeaderState::Valid);
        CHECK_FALSE(inspection->volume->formatting);
        CHECK_FALSE(inspection->repair_secondary);
        const uint64_t generation = inspection->volume->generation;
        auto third = boot(dev, crypt);
        REQUIRE(third.ok());
        CHECK_FALSE(third->formatted_now);
        CHECK(third->generation == generation + 1);
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

TEST_CASE("data volume: a power cut in the generation bump and in the re-enrolment is completed")
{
    constexpr uint64_t SIZE = 32 << 20;
    UserspaceActivator crypt;
    test::TempImage image(SIZE);
    {
        auto dev = image.open();
        auto first = boot(dev, crypt, secrets_of(PASSPHRASE, "the broker's recovery key for data"));
        REQUIRE_MESSAGE(first.ok(), test::why(first));
        CHECK(first->volume.recovery_keyslot);
        CHECK(first->generation == 1);
    }
    const Bytes finished = snapshot(image);
    std::set<std::string> paths;
    int writes = sweep(finished, secrets_of(PASSPHRASE), secrets_of(PASSPHRASE), paths);
    CHECK(writes == 3);  // the two copies, and the flush after the last needs one more
    CHECK(paths == std::set<std::string>{"opened LUKS2", "repaired the"});

    // Another chip: keyslot 0's passphrase is new, keyslot 1 opens it, keyslot 0 is re-made.
    const VolumeSecrets moved = secrets_of("the passphrase of another chip", "the broker's recovery key for data");
    paths.clear();
    writes = sweep(finished, moved, moved, paths);
    CHECK(writes >= 6);  // the new keyslot, both copies, the old keyslot zeroed
    // Cut before the primary, or while zeroing the old keyslot 0: recovered again; between the
    // copies: the secondary repaired first.
    CHECK(paths == std::set<std::string>{"opened with ", "repaired the"});
    // And after a cut between the copies, the new keyslot 0 is already the one the header names.
    test::TempImage image2(0);
    image2.write_file(finished);
    {
        PowerCut dev(image2.open(), 3);  // the new keyslot (zeros, material) and the primary copy
        CHECK_FALSE(boot(dev, crypt, moved).ok());
    }
    auto dev2 = image2.open();
    auto seen = luks2::inspect(dev2);
    REQUIRE(seen.ok());
    CHECK(seen->repair_secondary);
    CHECK(luks2::unlock(dev2, *seen->volume, as_bytes("the passphrase of another chip")).ok());
}

TEST_CASE("data volume: recovery keyslot, re-enrolment and the derivation in the token")
{
    constexpr uint64_t SIZE = 32 << 20;
    UserspaceActivator crypt;
    test::TempImage image(SIZE);
    auto dev = image.open();
    const std::string RECOVERY = "the broker's recovery key for data";

    VolumeSecrets hybrid = secrets_of(PASSPHRASE);
    hybrid.require_recovery = true;
    hybrid.derivation = luks2::Derivation{"chip-only", 0x5, 3, 0x1234};
    auto refused = boot(dev, crypt, hybrid);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == Errc::Config);
    CHECK(luks2::inspect(dev)->state == luks2::HeaderState::Blank);  // nothing written

    hybrid.recovery = [](std::string_view) -> Result<SecretBytes> { return SecretBytes(); };  // an empty key
    CHECK(boot(dev, crypt, hybrid).error().code() == Errc::Config);
    CHECK(luks2::inspect(dev)->state == luks2::HeaderState::Blank);
    hybrid.recovery = secrets_of(PASSPHRASE, RECOVERY).recovery;
    int passphrase_calls = 0;
    std::string asked_uuid;
    hybrid.passphrase = [&](std::string_view uuid) -> Result<SecretBytes> {
        ++passphrase_calls;
        asked_uuid = uuid;
        return SecretBytes::copy_of(passphrase());
    };
    auto first = boot(dev, crypt, hybrid);
    REQUIRE_MESSAGE(first.ok(), test::why(first));
    CHECK(passphrase_calls == 1);
    CHECK(asked_uuid == first->volume.uuid);
    CHECK(first->volume.derivation == hybrid.derivation);
    CHECK(first->volume.recovery_keyslot);
    CHECK_FALSE(first->recovered);
    first.value().plaintext.reset();

    // The next boot on another chip without the recovery key: keyslot 0 does not open.
    auto no_recovery = boot(dev, crypt, secrets_of("the passphrase of another chip"));
    REQUIRE_FALSE(no_recovery.ok());
    CHECK(no_recovery.error().code() == Errc::Crypto);
    CHECK(contains(no_recovery.error().message(), "does not open keyslot 0"));
    // A wrong recovery key does not open keyslot 1 either.
    auto wrong = boot(dev, crypt, secrets_of("the passphrase of another chip", "not the broker's recovery key"));
    REQUIRE_FALSE(wrong.ok());
    CHECK(contains(wrong.error().message(), "does not open keyslot 1"));

    VolumeSecrets moved = secrets_of("the passphrase of another chip", RECOVERY);
    moved.derivation = luks2::Derivation{"measurement-and-chip", 0x1f, 4, 0x5678};
    auto recovered = boot(dev, crypt, moved);
    REQUIRE_MESSAGE(recovered.ok(), test::why(recovered));
    CHECK(recovered->recovered);
    CHECK(recovered->generation == 2);
    CHECK(recovered->volume.derivation == moved.derivation);
    CHECK(recovered->volume.keyslot_area_offset != first->volume.keyslot_area_offset);
    recovered.value().plaintext.reset();
    // The old keyslot 0 area is zeroed.
    Bytes old_area(first->volume.keyslot_area_size);
    REQUIRE(dev.read_at(first->volume.keyslot_area_offset, old_area).ok());
    CHECK(all_zero(old_area));

    // Now keyslot 0 opens with the new passphrase, without the recovery key; the old one fails.
    auto again = boot(dev, crypt, secrets_of("the passphrase of another chip"));
    REQUIRE_MESSAGE(again.ok(), test::why(again));
    CHECK_FALSE(again->recovered);
    CHECK(again->generation == 3);
    again.value().plaintext.reset();
    CHECK(boot(dev, crypt, secrets_of(PASSPHRASE)).error().code() == Errc::Crypto);

    std::string cryptsetup = test::cryptsetup_path();
    if (!cryptsetup.empty()) {
        for (const std::string& key : {std::string("the passphrase of another chip"), RECOVERY}) {
            test::TempImage key_file(0);
            key_file.write_file(as_bytes(key));
            CHECK(test::run(cryptsetup + " open --test-passphrase --key-file " + key_file.path() + " " +
                            image.path()) == 0);
        }
    }
}

TEST_CASE("data volume: the generation rule, and a header the host edited is refused untouched")
{
    constexpr uint64_t SIZE = 32 << 20;
    UserspaceActivator crypt;
    test::TempImage image(SIZE);
    auto dev = image.open();
    REQUIRE(boot(dev, crypt).ok());
    auto seen = luks2::inspect(dev);
    REQUIRE(seen.ok());
    CHECK(seen->volume->generation == 1);
    const crypto::Sha256Digest before = image.digest();

    // Yesterday's generation, tomorrow's, and no generation at all.
    for (uint64_t next : {uint64_t{1}, uint64_t{3}}) {
        auto stale = open_or_format(dev, seen.value(), next, secrets_of(PASSPHRASE), crypt);
        REQUIRE_FALSE(stale.ok());
        CHECK(stale.error().code() == Errc::Policy);
        CHECK(contains(stale.error().message(), "holds generation 1, expected " + std::to_string(next - 1)));
    }
    CHECK(open_or_format(dev, seen.value(), 0, secrets_of(PASSPHRASE), crypt).error().code() == Errc::Config);
    CHECK(image.digest() == before);

    // The header changed since `seen`: the bump refuses to write over it.
    luks2::Inspection older = seen.value();
    REQUIRE(boot(dev, crypt).ok());
    const crypto::Sha256Digest moved_on = image.digest();
    auto replay = open_or_format(dev, older, 2, secrets_of(PASSPHRASE), crypt);
    REQUIRE_FALSE(replay.ok());
    CHECK(image.digest() == moved_on);

    // The formatting state injected into the ready volume, both copies, checksums made good.
    test::edit_headers(
        image, [](int, Bytes& copy) { test::replace_json(copy, "\"state\":\"ready\"", "\"state\":\"formatting\""); });
    const crypto::Sha256Digest injected = image.digest();
    auto edited = boot(dev, crypt);
    REQUIRE_FALSE(edited.ok());
    CHECK(edited.error().code() == Errc::Crypto);
    CHECK(contains(edited.error().message(), "LUKS2 header authentication failed"));
    CHECK(image.digest() == injected);
}
