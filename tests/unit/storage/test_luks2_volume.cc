// LUKS2 volumes end to end without the reference peer: blank detection, format and unlock, wrong
// passphrases, the crash windows of format() and finish_formatting(), and refusals to write.
#include <doctest.h>

#include "base/secret.h"
#include "luks2_fixture.h"
#include "storage/luks2_volume.h"

using namespace cvm;
using namespace cvm::storage;
using namespace cvm::test;

namespace {

constexpr uint64_t IMAGE_SIZE = 17 << 20;
const Bytes PASSPHRASE(64, 0x33);

luks2::Inspection inspect_ok(const TempImage& image)
{
    auto dev = image.open();
    auto result = luks2::inspect(dev);
    REQUIRE_MESSAGE(result.ok(), test::why(result));
    return result.release_value();
}

std::string inspect_error(const TempImage& image)
{
    auto dev = image.open();
    auto result = luks2::inspect(dev);
    REQUIRE_FALSE(result.ok());
    return std::string(result.error().message());
}

Bytes read_range(const TempImage& image, uint64_t offset, size_t n)
{
    auto dev = image.open();
    Bytes out(n);
    REQUIRE(dev.read_at(offset, out).ok());
    return out;
}

void write_range(const TempImage& image, uint64_t offset, ByteView data)
{
    auto dev = image.open();
    REQUIRE(dev.write_at(offset, data).ok());
}

}  // namespace

TEST_CASE("luks2: a zero device is Blank; a non-blank invalid one is never Blank")
{
    TempImage image(IMAGE_SIZE);
    CHECK(inspect_ok(image).state == luks2::HeaderState::Blank);
    CHECK_FALSE(inspect_ok(image).volume.has_value());

    // Leftovers behind zero binary headers (an interrupted format) are still Blank.
    write_range(image, 4096, Bytes(100, '{'));
    write_range(image, 16384 + 4096, Bytes(512, 0xee));
    CHECK(inspect_ok(image).state == luks2::HeaderState::Blank);
    // But not a secondary binary header that is neither blank nor valid.
    write_range(image, 16384, Bytes(512, 0xee));
    CHECK(contains(inspect_error(image), "primary binary header is zero but the secondary copy is not blank"));

    for (uint64_t offset : {uint64_t{0}, uint64_t{511}, uint64_t{4095}}) {
        CAPTURE(offset);
        TempImage other(IMAGE_SIZE);
        write_range(other, offset, Bytes{1});
        CHECK(contains(inspect_error(other), "luks2 header"));
    }
    TempImage small(4096);
    auto dev = small.open();
    CHECK(luks2::inspect(dev).error().code() == Errc::Io);
}

TEST_CASE("luks2: format, unlock, wrong passphrases and the options format refuses")
{
    TempImage image(IMAGE_SIZE);
    auto dev = image.open();
    CHECK(luks2::format(dev, Bytes(15, 1), {}).error().code() == Errc::Config);
    luks2::FormatOptions bad;
    bad.sector_size = 1024;
    CHECK(luks2::format(dev, PASSPHRASE, bad).error().code() == Errc::Config);
    bad = {};
    bad.pbkdf2_iterations = 999;
    CHECK(luks2::format(dev, PASSPHRASE, bad).error().code() == Errc::Config);
    bad = {};
    bad.segment_offset = IMAGE_SIZE;
    CHECK(luks2::format(dev, PASSPHRASE, bad).error().code() == Errc::Config);
    bad = {};
    bad.label = "tab\there";
    CHECK(luks2::format(dev, PASSPHRASE, bad).error().code() == Errc::Config);
    CHECK(inspect_ok(image).state == luks2::HeaderState::Blank);  // nothing written

    luks2::FormatOptions options;
    options.sector_size = 512;
    options.segment_offset = 1 << 20;
    options.pbkdf2_iterations = 2000;
    auto formatted = luks2::format(dev, PASSPHRASE, options);
    REQUIRE_MESSAGE(formatted.ok(), test::why(formatted));
    const auto& [volume, key] = formatted.value();
    CHECK(volume.segment_offset == 1 << 20);
    CHECK(volume.segment_size == IMAGE_SIZE - (1 << 20));
    CHECK(volume.keyslots_size == (1 << 20) - 32768);
    CHECK(volume.keyslot_kdf.iterations == 2000);
    CHECK(volume.uuid.size() == 36);
    CHECK(volume.uuid[14] == '4');
    CHECK(key.size() == 64);

    auto inspection = inspect_ok(image);
    REQUIRE(inspection.state == luks2::HeaderState::Valid);
    CHECK(*inspection.volume == volume);
    auto unlocked = luks2::unlock(dev, *inspection.volume, PASSPHRASE);
    REQUIRE(unlocked.ok());
    CHECK(unlocked->equals(key));

    Bytes wrong = PASSPHRASE;
    wrong.back() ^= 0x80;
    auto refused = luks2::unlock(dev, volume, wrong);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == Errc::Crypto);
    CHECK(contains(refused.error().message(), "does not open keyslot 0"));
    CHECK(luks2::unlock(dev, volume, Bytes(513, 1)).error().code() == Errc::Config);

    // A damaged keyslot area opens to nothing either.
    Bytes sector = read_range(image, volume.keyslot_area_offset + 512, 16);
    sector[0] ^= 1;
    write_range(image, volume.keyslot_area_offset + 512, sector);
    CHECK(luks2::unlock(dev, volume, PASSPHRASE).error().code() == Errc::Crypto);

    // format() refuses a device that is not Blank, and writes nothing.
    crypto::Sha256Digest before = image.digest();
    auto again = luks2::format(dev, PASSPHRASE, {});
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code() == Errc::Config);
    CHECK(image.digest() == before);
}

TEST_CASE("luks2: a format interrupted before its commit point inspects as Blank and formats again")
{
    TempImage image(IMAGE_SIZE);
    auto dev = image.open();
    auto first = luks2::format(dev, PASSPHRASE, {});
    REQUIRE(first.ok());
    // The state after every write but the last: the primary binary header still zero.
    write_range(image, 0, Bytes(4096, 0));
    CHECK(inspect_ok(image).state == luks2::HeaderState::Blank);
    auto second = luks2::format(dev, PASSPHRASE, {});
    REQUIRE(second.ok());
    CHECK(second->first.uuid != first->first.uuid);
    CHECK_FALSE(second->second.equals(first->second));
    CHECK(luks2::unlock(dev, second->first, PASSPHRASE).ok());
}

TEST_CASE("luks2: a finished volume whose primary binary header was zeroed is refused, not formatted")
{
    TempImage image(IMAGE_SIZE);
    auto dev = image.open();
    auto formatted = luks2::format(dev, PASSPHRASE, {});
    REQUIRE(formatted.ok());
    REQUIRE(luks2::finish_formatting(dev, formatted->first, formatted->second).ok());
    write_range(image, 0, Bytes(4096, 0));
    const crypto::Sha256Digest before = image.digest();
    std::string error = inspect_error(image);
    CHECK(contains(error, "secondary copy holds a volume (seqid 2, state ready, generation 1)"));
    CHECK(luks2::format(dev, PASSPHRASE, {}).error().code() == Errc::Config);
    CHECK(image.digest() == before);
}

TEST_CASE("luks2: finish_formatting interrupted between its writes is recovered by the crash rule")
{
    TempImage image(IMAGE_SIZE);
    auto dev = image.open();
    auto formatted = luks2::format(dev, PASSPHRASE, {});
    REQUIRE(formatted.ok());
    const luks2::Volume formatting = formatted->first;
    const Bytes old_secondary = read_range(image, 16384, 16384);

    const SecretBytes& key = formatted->second;
    auto finished = luks2::finish_formatting(dev, formatting, key);
    REQUIRE(finished.ok());
    CHECK(finished->seqid == 2);
    CHECK_FALSE(finished->formatting);
    CHECK(inspect_ok(image).volume == finished.value());
    // A second call with the old Volume is refused: the header moved on.
    crypto::Sha256Digest done = image.digest();
    CHECK(luks2::finish_formatting(dev, formatting, key).error().code() == Errc::Config);
    CHECK(luks2::finish_formatting(dev, finished.value(), key).error().code() == Errc::Config);  // ready
    CHECK(image.digest() == done);

    // Put back the secondary as it was before: the crash between the two writes.
    write_range(image, 16384, old_secondary);
    auto crashed = inspect_ok(image);
    REQUIRE(crashed.state == luks2::HeaderState::Valid);
    CHECK(crashed.repair_secondary);
    CHECK(*crashed.volume == finished.value());
    CHECK(luks2::unlock(dev, *crashed.volume, PASSPHRASE).ok());

    SUBCASE("repair_secondary rewrites the secondary from the primary")
    {
        CHECK(luks2::repair_secondary(dev, formatting, key).error().code() == Errc::Config);
        SecretBytes other = SecretBytes::copy_of(Bytes(64, 7));
        CHECK(luks2::repair_secondary(dev, *crashed.volume, other).error().code() == Errc::Crypto);
        REQUIRE(luks2::repair_secondary(dev, *crashed.volume, key).ok());
    }
    SUBCASE("finish_formatting run again completes the same way")
    {
        auto again = luks2::finish_formatting(dev, formatting, key);
        REQUIRE(again.ok());
        CHECK(again.value() == finished.value());
    }
    auto repaired = inspect_ok(image);
    CHECK_FALSE(repaired.repair_secondary);
    CHECK(*repaired.volume == finished.value());
    Bytes primary_json = read_range(image, 4096, 12288), secondary_json = read_range(image, 16384 + 4096, 12288);
    CHECK(primary_json == secondary_json);
    CHECK(luks2::repair_secondary(dev, finished.value(), key).error().code() == Errc::Config);  // nothing to repair
}

TEST_CASE("luks2: the crash rule accepts nothing but the token, keyslot 0 and one seqid step")
{
    TempImage image(IMAGE_SIZE);
    auto dev = image.open();
    auto formatted = luks2::format(dev, PASSPHRASE, {});
    REQUIRE(formatted.ok());
    const Bytes old_primary = read_range(image, 0, 16384), old_secondary = read_range(image, 16384, 16384);
    REQUIRE(luks2::finish_formatting(dev, formatted->first, formatted->second).ok());
    const Bytes new_primary = read_range(image, 0, 16384), new_secondary = read_range(image, 16384, 16384);

    auto restore = [&](const Bytes& primary, const Bytes& secondary) {
        write_range(image, 0, primary);
        write_range(image, 16384, secondary);
    };
    SUBCASE("the older copy differs in more than the token and keyslot 0")
    {
        Bytes secondary = old_secondary;
        replace_json(secondary, "\"sector_size\":4096", "\"sector_size\":512");
        recompute_checksum(secondary);
        restore(new_primary, secondary);
        CHECK(contains(inspect_error(image), "copies differ in seqid (primary 2, secondary 1)"));
    }
    SUBCASE("the newer copy is the secondary")
    {
        Bytes primary = old_secondary, secondary = new_primary;
        memcpy(primary.data(), "LUKS", 4);
        primary[262] = 0;
        recompute_checksum(primary);
        memcpy(secondary.data(), "SKUL", 4);
        secondary[262] = 0x40;
        recompute_checksum(secondary);
        restore(primary, secondary);
        CHECK(contains(inspect_error(image), "copies differ in seqid (primary 1, secondary 2)"));
    }
    SUBCASE("seqids two apart")
    {
        Bytes primary = new_primary;
        primary[23] = 3;
        recompute_checksum(primary);
        restore(primary, old_secondary);
        CHECK(contains(inspect_error(image), "copies differ in seqid (primary 3, secondary 1)"));
    }
    SUBCASE("the formatting state injected as a newer primary passes the structure, not the HMAC")
    {
        Bytes primary = old_primary;
        primary[23] = 3;
        recompute_checksum(primary);
        restore(primary, new_secondary);
        const crypto::Sha256Digest before = image.digest();
        auto injected = inspect_ok(image);
        REQUIRE(injected.repair_secondary);
        CHECK(injected.volume->formatting);
        auto refused = luks2::unlock(dev, *injected.volume, PASSPHRASE);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().code() == Errc::Crypto);
        CHECK(contains(refused.error().message(), "LUKS2 header authentication failed"));
        CHECK(contains(refused.error().message(), "(edited by the host?)"));
        CHECK(luks2::repair_secondary(dev, *injected.volume, formatted->second).error().code() == Errc::Crypto);
        CHECK(image.digest() == before);
    }
    SUBCASE("a torn primary write is not recovered")
    {
        Bytes primary = new_primary;
        std::copy(old_primary.begin() + 4096, old_primary.end(), primary.begin() + 4096);
        restore(primary, old_secondary);
        CHECK(contains(inspect_error(image), "primary copy checksum"));
    }
}
