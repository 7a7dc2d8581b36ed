// Adoption's refusals (luks2_volume.h ADOPTION): a header without a token outside the strict
// profile is still refused, and so is every crash state the crash rule does not name; nothing is
// written before the keyslot opened, with a key that does not match the digest, or with a
// generation other than 1; and the adopted header is authenticated like any of ours.
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

TEST_CASE("luks2 adopt: a token-less header outside the profile is refused, untouched")
{
    struct Case {
        std::string from, to;
        const char* needle;
    };
    const Case cases[] = {
        {"\"stripes\":4000", "\"stripes\":3999", "keyslots.0.af.stripes is 3999"},
        {"\"kdf\":{\"type\":\"pbkdf2\"", "\"kdf\":{\"type\":\"argon2id\"", "keyslots.0.kdf.type is \"argon2id\""},
        {"\"key_size\":64,\"af\"", "\"key_size\":32,\"af\"", "keyslots.0.key_size is 32"},
        {"\"encryption\":\"aes-xts-plain64\",\"sector_size\"", "\"encryption\":\"cipher_null\",\"sector_size\"",
         "segments.0.encryption is \"cipher_null\""},
        {"\"sector_size\":4096", "\"sector_size\":1024", "segments.0.sector_size is 1024"},
        {"\"offset\":\"16777216\"", "\"offset\":\"33554432\"", "segments.0.offset is 33554432"},
        {"\"keyslots\":[\"0\"]", "\"keyslots\":[\"0\",\"1\"]", "digests.0.keyslots"},
        {"\"json_size\":\"12288\"", "\"json_size\":\"16384\"", "config.json_size is \"16384\""},
        {"\"config\":{", "\"config\":{\"flags\":[\"allow-discards\"],", "config.flags holds \"allow-discards\""},
        {"\"config\":{", "\"config\":{\"requirements\":{\"mandatory\":[\"online-reencrypt-v2\"]},",
         "config.requirements.mandatory holds \"online-reencrypt-v2\""},
        {"\"tokens\":{}", "\"tokens\":{},\"extra\":{}", "has member \"extra\""},
        {"\"tokens\":{}", "\"tokens\":{},\"tokens\":{}", "has member \"tokens\" twice"},
        {"\"tokens\":{}", "\"tokens\":[]", "tokens is an array of 0, expected an object"},
        {"\"tokens\":{}", "\"tokens\":{\"0\":{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"]}}",
         "tokens.0.type is \"systemd-tpm2\""},
    };
    auto expect_refused = [](const TempImage& image, const std::string& needle) {
        CAPTURE(needle);
        const crypto::Sha256Digest before = image.digest();
        auto dev = image.open();
        auto seen = luks2::inspect(dev);
        REQUIRE_FALSE(seen.ok());
        INFO(std::string(seen.error().message()));
        CHECK(contains(seen.error().message(), needle));
        CHECK(image.digest() == before);
    };
    SecretBytes key;
    for (const Case& c : cases) {
        TempImage image(IMAGE_SIZE);
        make_pre_token(image, key);
        edit_headers(image, [&](int, Bytes& copy) { replace_json(copy, c.from, c.to); });
        expect_refused(image, c.needle);
    }
    // Keyslot 1 outside the profile's rules for it: a priority, an area over keyslot 0's.
    const Case keyslot1[] = {
        {"\"1\":{\"type\":\"luks2\",\"key_size\":64,", "\"1\":{\"type\":\"luks2\",\"key_size\":64,\"priority\":1,",
         "keyslots.1 has member \"priority\""},
        {"\"offset\":\"290816\"", "\"offset\":\"36864\"", "keyslots.1.area.offset is 36864"},
    };
    for (const Case& c : keyslot1) {
        TempImage image(IMAGE_SIZE);
        make_stripped_with_recovery(image);
        edit_headers(image, [&](int, Bytes& copy) { replace_json(copy, c.from, c.to); });
        expect_refused(image, c.needle);
    }
    {
        // The copies' texts differ (only the secondary re-spaced), or a checksum is wrong.
        TempImage image(IMAGE_SIZE);
        make_pre_token(image, key);
        edit_headers(image, [](int copy, Bytes& bytes) {
            if (copy == 1)
                replace_json(bytes, "\"tokens\":{}", "\"tokens\": {}");
        });
        expect_refused(image, "copies differ in JSON area");
        edit_headers(
            image, [](int copy, Bytes& bytes) { bytes[4096 + 2] = copy == 0 ? 'K' : bytes[4096 + 2]; }, false);
        expect_refused(image, "primary copy checksum does not match");
    }
    {
        // Both without a token, the primary one seqid ahead: not a rewrite of ours.
        TempImage image(IMAGE_SIZE);
        make_pre_token(image, key);
        edit_headers(image, [](int copy, Bytes& bytes) { bytes[23] = copy == 0 ? 3 : 2; });
        expect_refused(image, "copies differ in seqid (primary 3, secondary 2, the primary without a cvminit token)");
    }
    {
        // The token removed from the primary of one of our volumes, its seqid one ahead: the
        // crash rule never takes a token away.
        TempImage image(IMAGE_SIZE);
        auto dev = image.open();
        auto f = luks2::format(dev, as_bytes(PASSPHRASE), {});
        REQUIRE(f.ok());
        REQUIRE(luks2::finish_formatting(dev, f->first, f->second).ok());
        edit_headers(image, [](int copy, Bytes& bytes) {
            if (copy != 0)
                return;
            std::string json = json_of(bytes);
            size_t from = json.find("\"tokens\":{\"0\":");
            replace_json(bytes, json.substr(from, json.find(",\"segments\"") - from), "\"tokens\":{}");
            bytes[23] = 3;
        });
        expect_refused(image, "the primary without a cvminit token");
    }
    {
        // An interrupted adoption is accepted, but not with the primary's state formatting.
        TempImage image(IMAGE_SIZE);
        make_pre_token(image, key);
        const Bytes original = snapshot(image);
        {
            UserspaceActivator crypt;
            PowerCut dev(image.open(), 1);
            CHECK_FALSE(boot(dev, crypt, secrets_of(PASSPHRASE)).ok());
        }
        auto dev = image.open();
        REQUIRE(luks2::inspect(dev).ok());
        CHECK(luks2::inspect(dev)->repair_secondary);
        edit_headers(image, [&](int copy, Bytes& bytes) {
            if (copy == 0)
                replace_json(bytes, "\"state\":\"ready\"", "\"state\":\"formatting\"");
        });
        expect_refused(image, "copies differ in seqid (primary 3, secondary 2)");
    }
}

TEST_CASE("luks2 adopt: nothing is written before the keyslot opens, and only generation 1 adopts")
{
    TempImage image(IMAGE_SIZE);
    SecretBytes key;
    make_pre_token(image, key);
    const crypto::Sha256Digest before = image.digest();
    UserspaceActivator crypt;
    auto dev = image.open();
    const luks2::Inspection seen = luks2::inspect(dev).release_value();

    auto wrong = boot(dev, crypt, secrets_of("not the broker's volume key"));
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.error().code() == Errc::Crypto);
    CHECK(contains(wrong.error().message(), "does not open keyslot 0"));
    // A recovery key does not help a volume without keyslot 1: keyslot 0 is tried as usual.
    CHECK(boot(dev, crypt, secrets_of("not the broker's volume key", RECOVERY)).error().code() == Errc::Crypto);
    for (uint64_t next : {uint64_t{2}, uint64_t{5}}) {
        auto stale = open_or_format(dev, seen, next, secrets_of(PASSPHRASE), crypt);
        REQUIRE_FALSE(stale.ok());
        CHECK(stale.error().code() == Errc::Policy);
        CHECK(contains(stale.error().message(),
                       "holds generation 0 (no cvminit token), expected " + std::to_string(next - 1)));
    }
    CHECK(open_or_format(dev, seen, 0, secrets_of(PASSPHRASE), crypt).error().code() == Errc::Config);

    // adopt() itself: the key must match the digest, the generation be at least 1, the
    // derivation's policy known, the volume without a token; reenroll needs keyslot 1.
    const luks2::Volume& v = *seen.volume;
    SecretBytes other = SecretBytes::copy_of(Bytes(64, 0x77));
    auto bad_key = luks2::adopt(dev, v, other, 1, std::nullopt);
    REQUIRE_FALSE(bad_key.ok());
    CHECK(bad_key.error().code() == Errc::Crypto);
    CHECK(contains(bad_key.error().message(), "the key for adopting"));
    CHECK(contains(bad_key.error().message(), "does not match its digest"));
    CHECK(luks2::adopt(dev, v, key, 0, std::nullopt).error().code() == Errc::Config);
    CHECK(luks2::adopt(dev, v, key, 1, luks2::Derivation{"moon-only", 0, 0, 0}).error().code() == Errc::Config);
    CHECK(luks2::reenroll_keyslot0(dev, v, key, as_bytes(OTHER_CHIP), std::nullopt, 1).error().code() == Errc::Config);
    CHECK(image.digest() == before);

    // With a derivation (a hybrid keyslot recorded), the adopted header is authenticated: a
    // changed generation no longer unlocks.
    const luks2::Derivation hybrid{"chip-only", 5, 3, 0x1234};
    auto adopted = luks2::adopt(dev, v, key, 1, hybrid);
    REQUIRE_MESSAGE(adopted.ok(), why(adopted));
    CHECK(adopted->derivation == hybrid);
    CHECK_FALSE(adopted->adopt);
    CHECK(luks2::unlock(dev, adopted.value(), as_bytes(PASSPHRASE)).ok());
    const crypto::Sha256Digest ours = image.digest();
    CHECK(luks2::adopt(dev, adopted.value(), key, 2, std::nullopt).error().code() == Errc::Config);
    CHECK(luks2::adopt(dev, v, key, 1, std::nullopt).error().code() == Errc::Config);  // the device moved on
    CHECK(image.digest() == ours);
    edit_headers(image, [](int, Bytes& copy) { replace_json(copy, "\"generation\":\"1\"", "\"generation\":\"2\""); });
    auto edited = luks2::inspect(dev);
    REQUIRE(edited.ok());
    auto unlocked = luks2::unlock(dev, *edited->volume, as_bytes(PASSPHRASE));
    REQUIRE_FALSE(unlocked.ok());
    CHECK(contains(unlocked.error().message(), "LUKS2 header authentication failed"));
}
