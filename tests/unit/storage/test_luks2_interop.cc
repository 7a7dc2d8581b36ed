// LUKS2 against the reference peer, cryptsetup 2.6: volumes it formats carry no cvminit token and
// inspect as volumes to adopt (generation 0; test_luks2_adopt.cc adopts them); volumes we format (with and without the
// recovery keyslot) pass its isLuks, luksDump (which shows our token) and --test-passphrase with the same key for
// either keyslot; and the plaintext view agrees with its offline (userspace) reencryption in both directions. Skipped
// with a message without cryptsetup.
#include <doctest.h>

#include "luks2_fixture.h"
#include "storage/crypt_device.h"
#include "storage/luks2_volume.h"

using namespace cvm;
using namespace cvm::storage;
using namespace cvm::test;

namespace {

constexpr uint64_t MiB = 1 << 20;

Bytes random_bytes(size_t n)
{
    Bytes out(n);
    FILE* f = fopen("/dev/urandom", "rb");
    REQUIRE(f);
    REQUIRE(fread(out.data(), 1, n, f) == n);
    fclose(f);
    return out;
}

// A key file of 64 random bytes: the broker's volume key stands in as the passphrase.
struct KeyFile {
    KeyFile() : image(0), bytes(random_bytes(64)) { image.write_file(bytes); }
    TempImage image;
    Bytes bytes;
    const std::string& path() const { return image.path(); }
};

#define REQUIRE_CRYPTSETUP(var)                                                                                        \
    std::string var = cryptsetup_path();                                                                               \
    if (var.empty()) {                                                                                                 \
        MESSAGE("skipped: cryptsetup not found on PATH, /usr/sbin or /sbin");                                          \
        return;                                                                                                        \
    }

const std::string LUKS_FORMAT = " luksFormat --type luks2 --cipher aes-xts-plain64 --key-size 512 --hash sha256 "
                                "--pbkdf pbkdf2 --pbkdf-force-iterations 1000 -q";

}  // namespace

TEST_CASE("luks2 interop: a cryptsetup volume has no cvminit token: a volume to adopt, untouched by inspect")
{
    REQUIRE_CRYPTSETUP(cryptsetup);
    KeyFile key;
    TempImage image(32 * MiB);
    REQUIRE(run(cryptsetup + LUKS_FORMAT + " --key-file " + key.path() + " " + image.path()) == 0);
    const crypto::Sha256Digest before = image.digest();
    auto dev = image.open();
    auto inspection = luks2::inspect(dev);
    REQUIRE_MESSAGE(inspection.ok(), test::why(inspection));
    REQUIRE(inspection->state == luks2::HeaderState::Valid);
    CHECK(inspection->volume->adopt);
    CHECK(inspection->volume->generation == 0);
    CHECK_FALSE(inspection->volume->formatting);
    CHECK(inspection->volume->segment_offset == 16 * MiB);
    auto unlocked = luks2::unlock(dev, *inspection->volume, key.bytes);
    REQUIRE_MESSAGE(unlocked.ok(), test::why(unlocked));
    CHECK(to_hex(unlocked->expose()) == to_hex(dump_volume_key(cryptsetup, image.path(), key.path())));
    CHECK(image.digest() == before);
}

TEST_CASE("luks2 interop: cryptsetup opens what we format, before and after finish_formatting")
{
    REQUIRE_CRYPTSETUP(cryptsetup);
    KeyFile key, recovery;
    for (uint32_t sector_size : {512u, 4096u}) {
        CAPTURE(sector_size);
        const bool with_recovery = sector_size == 4096;  // one volume of each shape
        TempImage image(20 * MiB);
        auto dev = image.open();
        luks2::FormatOptions options;
        options.sector_size = sector_size;
        options.label = "cvm-data";
        auto formatted = luks2::format(dev, key.bytes, options, with_recovery ? ByteView(recovery.bytes) : ByteView());
        REQUIRE_MESSAGE(formatted.ok(), test::why(formatted));
        const auto& [volume, volume_key] = formatted.value();
        CHECK(volume.formatting);
        CHECK(volume.seqid == 1);

        std::string dump;
        REQUIRE(run(cryptsetup + " isLuks --type luks2 " + image.path()) == 0);
        REQUIRE(run(cryptsetup + " luksDump " + image.path(), &dump) == 0);
        CHECK(contains(dump, "0: cvminit"));  // cryptsetup keeps and shows a token type it does not know
        CHECK(contains(dump, "  1: luks2") == with_recovery);
        std::string json;
        REQUIRE(run(cryptsetup + " luksDump --dump-json-metadata " + image.path(), &json) == 0);
        CHECK(contains(json, "\"state\":\"formatting\""));
        CHECK(contains(dump, "cvm-data"));
        CHECK(contains(dump, "sector: " + std::to_string(sector_size) + " [bytes]"));
        CHECK(contains(dump, volume.uuid));
        CHECK(run(cryptsetup + " open --test-passphrase --key-file " + key.path() + " " + image.path()) == 0);
        CHECK(to_hex(volume_key.expose()) == to_hex(dump_volume_key(cryptsetup, image.path(), key.path())));

        if (with_recovery) {
            CHECK(run(cryptsetup + " open --test-passphrase --key-slot 1 --key-file " + recovery.path() + " " +
                      image.path()) == 0);
            CHECK(to_hex(volume_key.expose()) == to_hex(dump_volume_key(cryptsetup, image.path(), recovery.path())));
        }
        auto finished = luks2::finish_formatting(dev, volume, volume_key);
        REQUIRE_MESSAGE(finished.ok(), test::why(finished));
        CHECK_FALSE(finished->formatting);
        CHECK(finished->seqid == 2);
        dump.clear();
        REQUIRE(run(cryptsetup + " luksDump " + image.path(), &dump) == 0);
        json.clear();
        REQUIRE(run(cryptsetup + " luksDump --dump-json-metadata " + image.path(), &json) == 0);
        CHECK(contains(json, "\"state\":\"ready\""));
        CHECK(contains(dump, "Epoch:         \t2"));
        CHECK(run(cryptsetup + " open --test-passphrase --key-file " + key.path() + " " + image.path()) == 0);
        CHECK(to_hex(volume_key.expose()) == to_hex(dump_volume_key(cryptsetup, image.path(), key.path())));
        // A wrong passphrase fails for cryptsetup as for us.
        Bytes wrong = key.bytes;
        wrong[0] ^= 1;
        TempImage wrong_file(0);
        wrong_file.write_file(wrong);
        CHECK(run(cryptsetup + " open --test-passphrase --key-file " + wrong_file.path() + " " + image.path()) != 0);
    }
}

TEST_CASE("luks2 interop: the plaintext view matches cryptsetup's userspace reencryption both ways")
{
    REQUIRE_CRYPTSETUP(cryptsetup);
    KeyFile key;
    for (uint32_t sector_size : {512u, 4096u}) {
        CAPTURE(sector_size);
        const size_t size = 2 * MiB;
        Bytes plain = random_bytes(size);
        TempImage image(0), header(0);
        image.write_file(plain);
        unlink(header.path().c_str());  // cryptsetup creates the detached header itself
        // Offline encryption in place with a detached header: segment offset 0, no dm needed.
        REQUIRE(run(cryptsetup +
                    " reencrypt --encrypt --type luks2 --cipher aes-xts-plain64 --key-size 512 "
                    "--hash sha256 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --force-offline-reencrypt"
                    " -q --sector-size " +
                    std::to_string(sector_size) + " --header " + header.path() + " --key-file " + key.path() + " " +
                    image.path()) == 0);
        Bytes key_bytes = dump_volume_key(cryptsetup, header.path(), key.path());
        SecretBytes volume_key = SecretBytes::copy_of(key_bytes);
        auto lower = image.open();
        CHECK(image.digest() != crypto::Sha256::of(plain));

        auto view = CryptBlockDevice::create(lower, 0, size, sector_size, volume_key);
        REQUIRE_MESSAGE(view.ok(), test::why(view));
        Bytes read(size);
        REQUIRE(view->read_at(0, read).ok());
        CHECK(read == plain);  // dm-crypt's plain64: IVs in 512-byte units, also for 4096

        // Our writes, decrypted by cryptsetup in place, give back our plaintext.
        Bytes update = random_bytes(3 * 4096);
        REQUIRE(view->write_at(5 * 4096, update).ok());
        std::copy(update.begin(), update.end(), plain.begin() + 5 * 4096);
        REQUIRE(view->flush().ok());
        REQUIRE(run(cryptsetup + " reencrypt --decrypt --force-offline-reencrypt -q --header " + header.path() +
                    " --key-file " + key.path() + " " + image.path()) == 0);
        CHECK(image.digest() == crypto::Sha256::of(plain));
    }
}

TEST_CASE("luks2: the plaintext view of our own volume round-trips and refuses unaligned access")
{
    TempImage image(18 * MiB);
    auto dev = image.open();
    Bytes passphrase(32, 0x5a);
    auto formatted = luks2::format(dev, passphrase, {});
    REQUIRE(formatted.ok());
    auto& [volume, volume_key] = formatted.value();
    auto view = CryptBlockDevice::open(dev, volume, volume_key);
    REQUIRE(view.ok());
    CHECK(view->size() == 2 * MiB);
    Bytes data(8192, 0xab), back(8192);
    REQUIRE(view->write_at(4096, data).ok());
    REQUIRE(view->read_at(4096, back).ok());
    CHECK(back == data);
    Bytes raw(8192);
    REQUIRE(dev.read_at(volume.segment_offset + 4096, raw).ok());
    CHECK(raw != data);
    CHECK(view->read_at(512, std::span<uint8_t>(back).first(4096)).error().code() == Errc::Io);
    CHECK(view->write_at(0, ByteView(data).first(100)).error().code() == Errc::Io);
    CHECK(view->read_at(2 * MiB, std::span<uint8_t>(back).first(4096)).error().code() == Errc::Io);
    CHECK(CryptBlockDevice::create(dev, 0, 4096, 1024, volume_key).error().code() == Errc::Config);
    CHECK_FALSE(CryptBlockDevice::create(dev, 18 * MiB - 4096, 8192, 4096, volume_key).ok());
}
