// Adoption (luks2_volume.h ADOPTION): a LUKS2 volume without a token — made by `cryptsetup
// luksFormat` in the strict profile, or finished by a cvminit from before the token — is Valid,
// opens once the keyslot's key matches the digest, and that first open rewrites the header in our
// canonical form with our token at generation 1; the next open is an ordinary one. The data is
// untouched, cryptsetup still opens the volume, and a power cut at every write of the adoption is
// completed by the next boot (the refusals: test_luks2_adopt_refused.cc).
#include <doctest.h>

#include <set>
#include <string>

#include "adopt_fixture.h"
#include "storage/crypt_device.h"
#include "storage/data_volume.h"
#include "storage/luks2_volume.h"

using namespace cvm;
using namespace cvm::storage;
using namespace cvm::test;

TEST_CASE("luks2 adopt: a volume finished by cvminit before the token is adopted, then opened as ours")
{
    TempImage image(IMAGE_SIZE);
    SecretBytes key;
    make_pre_token(image, key);
    const luks2::Volume before = inspect_adopt(image);
    CHECK(before.seqid == 2);
    plaintext(image, key, pattern(), true);

    // Nothing of ours authenticates or re-MACs a header without a token, but adopt().
    {
        auto dev = image.open();
        const crypto::Sha256Digest untouched = image.digest();
        CHECK(luks2::authenticate(dev, before, key).error().code() == Errc::Crypto);
        CHECK(contains(luks2::authenticate(dev, before, key).error().message(), "has no cvminit token"));
        CHECK(luks2::set_generation(dev, before, key, 1).error().code() == Errc::Config);
        CHECK(luks2::finish_formatting(dev, before, key).error().code() == Errc::Config);
        CHECK(luks2::repair_secondary(dev, before, key).error().code() == Errc::Crypto);
        CHECK(image.digest() == untouched);
    }

    UserspaceActivator crypt;
    auto dev = image.open();
    auto first = boot(dev, crypt, secrets_of(PASSPHRASE));
    REQUIRE_MESSAGE(first.ok(), why(first));
    CHECK(first->adopted);
    CHECK_FALSE(first->recovered);
    CHECK_FALSE(first->formatted_now);
    CHECK(first->generation == 1);
    CHECK(first->volume.seqid == 3);
    CHECK_FALSE(first->volume.adopt);
    CHECK(contains(first->summary, ": adopted a LUKS2 volume without a cvminit token (now generation 1), 2 MiB"));
    Bytes back(8192);
    REQUIRE(first->plaintext->read_at(0, back).ok());
    CHECK(back == pattern());
    first.value().plaintext.reset();
    check_ours(image, key, 1);
    // Every field but the token is what the old header said.
    luks2::Volume expected = before;
    expected.adopt = false;
    expected.seqid = 3;
    expected.generation = 1;
    expected.hmac = first->volume.hmac;
    CHECK(first->volume == expected);

    auto second = boot(dev, crypt, secrets_of(PASSPHRASE));
    REQUIRE_MESSAGE(second.ok(), why(second));
    CHECK_FALSE(second->adopted);
    CHECK(second->generation == 2);
    CHECK(contains(second->summary, ": opened LUKS2, generation 2, 2 MiB"));
    second.value().plaintext.reset();
    plaintext(image, key, pattern(), false);
}

TEST_CASE("luks2 adopt: cryptsetup luksFormat volumes, with and without keyslot 1, adopted and still cryptsetup's")
{
    std::string cryptsetup = cryptsetup_path();
    if (cryptsetup.empty()) {
        MESSAGE("skipped: cryptsetup not found on PATH, /usr/sbin or /sbin");
        return;
    }
    TempImage key_file(0), recovery_file(0), other_file(0);
    key_file.write_file(as_bytes(PASSPHRASE));
    recovery_file.write_file(as_bytes(RECOVERY));
    other_file.write_file(as_bytes(OTHER_CHIP));
    const std::string PBKDF = " --pbkdf pbkdf2 --pbkdf-force-iterations 1000 -q";
    for (bool with_recovery : {false, true}) {
        CAPTURE(with_recovery);
        TempImage image(IMAGE_SIZE);
        REQUIRE(run(cryptsetup +
                    " luksFormat --type luks2 --cipher aes-xts-plain64 --key-size 512 --hash sha256 --label cs-data" +
                    PBKDF + " --key-file " + key_file.path() + " " + image.path()) == 0);
        if (with_recovery)
            REQUIRE(run(cryptsetup + " luksAddKey --key-slot 1" + PBKDF + " --key-file " + key_file.path() + " " +
                        image.path() + " " + recovery_file.path()) == 0);
        SecretBytes key = SecretBytes::copy_of(dump_volume_key(cryptsetup, image.path(), key_file.path()));
        const luks2::Volume before = inspect_adopt(image);
        CHECK(before.label == "cs-data");
        CHECK(before.recovery_keyslot == with_recovery);
        plaintext(image, key, pattern(), true);

        // Without keyslot 1 a recovery key is ignored; with it, keyslot 1 opens the volume and
        // keyslot 0 is re-made for another chip in the same rewrite that adopts it.
        UserspaceActivator crypt;
        auto dev = image.open();
        auto first = boot(dev, crypt, secrets_of(with_recovery ? OTHER_CHIP : PASSPHRASE, RECOVERY));
        REQUIRE_MESSAGE(first.ok(), why(first));
        CHECK(first->adopted);
        CHECK(first->recovered == with_recovery);
        CHECK(first->generation == 1);
        CHECK(first->volume.seqid == before.seqid + 1);
        CHECK(contains(first->summary, "adopted a LUKS2 volume without a cvminit token (now generation 1)"));
        CHECK(contains(first->summary, "re-made keyslot 0") == with_recovery);
        first.value().plaintext.reset();
        check_ours(image, key, 1);
        plaintext(image, key, pattern(), false);

        // cryptsetup keeps opening it with the same volume key, and shows our token.
        const TempImage& slot0 = with_recovery ? other_file : key_file;
        CHECK(run(cryptsetup + " open --test-passphrase --key-file " + slot0.path() + " " + image.path()) == 0);
        CHECK(to_hex(dump_volume_key(cryptsetup, image.path(), slot0.path())) == to_hex(key.expose()));
        if (with_recovery)
            CHECK(run(cryptsetup + " open --test-passphrase --key-slot 1 --key-file " + recovery_file.path() + " " +
                      image.path()) == 0);
        std::string json;
        REQUIRE(run(cryptsetup + " luksDump --dump-json-metadata " + image.path(), &json) == 0);
        CHECK(contains(json, "\"type\":\"cvminit\""));
        CHECK(contains(json, "\"generation\":\"1\""));

        auto second = boot(dev, crypt, secrets_of(with_recovery ? OTHER_CHIP : PASSPHRASE));
        REQUIRE_MESSAGE(second.ok(), why(second));
        CHECK_FALSE(second->adopted);
        CHECK(second->generation == 2);
        CHECK(path_of(second.value()) == "opened LUKS2");
    }
}

TEST_CASE("luks2 adopt: a power cut at every write of the adoption is completed by the next boot")
{
    TempImage image(IMAGE_SIZE);
    SecretBytes key;
    make_pre_token(image, key);
    const Bytes pre_token = snapshot(image);
    const luks2::Volume volume = inspect_adopt(image);
    // The same header in another text that means the same (spaces, as another json-c build may
    // write): token-less headers need not be canonical, and the crash state keeps that text.
    edit_headers(image, [](int, Bytes& copy) {
        replace_json(copy, "\"tokens\":{}", "\"tokens\": { }");
        replace_json(copy, "{\"keyslots\":", "{ \"keyslots\": ");
    });
    const Bytes spaced = snapshot(image);
    CHECK(inspect_adopt(image) == volume);

    for (const Bytes* start : {&pre_token, &spaced}) {
        std::set<std::string> paths;
        int writes = sweep(*start, secrets_of(PASSPHRASE), secrets_of(PASSPHRASE), paths);
        CHECK(writes == 3);  // the two copies, and the flush after the last needs one more
        // Cut before the primary: adopted again; between the copies: repaired (the primary's
        // token authenticated first); after both: opened as ours.
        CHECK(paths == std::set<std::string>{"adopted a LU", "repaired the", "opened LUKS2"});

        // The state between the copies: our token in the primary, the original in the secondary.
        TempImage cut(0);
        cut.write_file(*start);
        {
            UserspaceActivator crypt;
            PowerCut dev(cut.open(), 1);
            CHECK_FALSE(boot(dev, crypt, secrets_of(PASSPHRASE)).ok());
        }
        auto dev = cut.open();
        auto seen = luks2::inspect(dev);
        REQUIRE_MESSAGE(seen.ok(), why(seen));
        CHECK(seen->repair_secondary);
        CHECK_FALSE(seen->volume->adopt);
        CHECK(seen->volume->generation == 1);
        Bytes secondary(16384);
        REQUIRE(dev.read_at(16384, secondary).ok());
        CHECK(json_of(secondary) == json_of(Bytes(start->begin() + 16384, start->begin() + 32768)));
        // A repair with a key that is not the volume's writes nothing.
        const crypto::Sha256Digest crashed = cut.digest();
        SecretBytes wrong = SecretBytes::copy_of(Bytes(64, 0x77));
        CHECK(luks2::repair_secondary(dev, *seen->volume, wrong).error().code() == Errc::Crypto);
        CHECK(cut.digest() == crashed);
    }

    // The re-enrolment that adopts a token-less volume with keyslot 1, cut the same way.
    TempImage stripped(IMAGE_SIZE);
    make_stripped_with_recovery(stripped);
    CHECK(inspect_adopt(stripped).recovery_keyslot);
    const VolumeSecrets moved = secrets_of(OTHER_CHIP, RECOVERY);
    std::set<std::string> paths;
    int writes = sweep(snapshot(stripped), moved, moved, paths);
    CHECK(writes >= 6);  // the new keyslot, both copies, the old keyslot zeroed
    CHECK(paths == std::set<std::string>{"opened with ", "repaired the"});
}
