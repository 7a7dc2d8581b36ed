// Adoption (luks2_volume.h ADOPTION): a LUKS2 volume without a token — made by `cryptsetup
// luksFormat` in the strict profile, or finished by a cvminit from before the token — is Valid,
// opens once the keyslot's key matches the digest, and that first open rewrites the header in our
// canonical form with our token at generation 1; the next open is an ordinary one. The data is
// untouched, cryptsetup still opens the volume, a power cut at every write of the adoption is
// completed by the next boot, a token-less header outside the profile is still refused, and
// nothing is written before the keyslot opened or with a generation other than 1.
#include <doctest.h>

#include <cstring>
#include <set>
#include <string>

#include "base/base64.h"
#include "data_volume_fixture.h"
#include "luks2_fixture.h"
#include "storage/crypt_device.h"
#include "storage/data_volume.h"
#include "storage/luks2_volume.h"

using namespace cvm;
using namespace cvm::storage;
using namespace cvm::test;

namespace {

constexpr uint64_t MiB = 1 << 20;
constexpr uint64_t IMAGE_SIZE = 18 * MiB;  // 16 MiB of header and keyslots (cryptsetup's too), 2 MiB of data
const std::string PASSPHRASE = "the broker's volume key for data";
const std::string RECOVERY = "the broker's recovery key for data";
const std::string OTHER_CHIP = "the passphrase of another chip";

// The JSON text cvminit wrote for a finished volume before it had a token: write_metadata() as of
// c47a1fd^ (lib/storage/luks2_metadata.cc), rebuilt here by hand from the fields, for the one
// keyslot without a priority that it formatted. Not our current serializer: the fixture must not
// follow that serializer if it changes.
std::string pre_token_json(const luks2::Volume& v)
{
    auto num = [](uint64_t n) { return "\"" + std::to_string(n) + "\""; };
    return "{\"keyslots\":{\"0\":{\"type\":\"luks2\",\"key_size\":64,"
           "\"af\":{\"type\":\"luks1\",\"stripes\":4000,\"hash\":\"sha256\"},"
           "\"area\":{\"type\":\"raw\",\"offset\":" +
           num(v.keyslot_area_offset) + ",\"size\":" + num(v.keyslot_area_size) +
           ",\"encryption\":\"aes-xts-plain64\",\"key_size\":64},"
           "\"kdf\":{\"type\":\"pbkdf2\",\"hash\":\"sha256\",\"iterations\":" +
           std::to_string(v.keyslot_kdf.iterations) + ",\"salt\":\"" + base64_encode(v.keyslot_kdf.salt) +
           "\"}}},\"tokens\":{},\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":" + num(v.segment_offset) +
           ",\"size\":\"dynamic\",\"iv_tweak\":\"0\",\"encryption\":\"aes-xts-plain64\",\"sector_size\":" +
           std::to_string(v.sector_size) +
           "}},\"digests\":{\"0\":{\"type\":\"pbkdf2\",\"keyslots\":[\"0\"],\"segments\":[\"0\"],"
           "\"hash\":\"sha256\",\"iterations\":" +
           std::to_string(v.digest_kdf.iterations) + ",\"salt\":\"" + base64_encode(v.digest_kdf.salt) +
           "\",\"digest\":\"" + base64_encode(v.digest) +
           "\"}},\"config\":{\"json_size\":\"12288\",\"keyslots_size\":" + num(v.keyslots_size) + "}}";
}

std::string json_of(const Bytes& copy)
{
    return std::string(reinterpret_cast<const char*>(copy.data()) + 4096);
}

void set_json(Bytes& copy, const std::string& json)
{
    REQUIRE(json.size() < 12288);
    memset(copy.data() + 4096, 0, 12288);
    memcpy(copy.data() + 4096, json.data(), json.size());
}

// A volume as a cvminit from before the token left it after its first boot: formatted, finished
// (seqid 2), "tokens":{} in both copies. The volume key comes back in `key`.
void make_pre_token(const TempImage& image, SecretBytes& key)
{
    auto dev = image.open();
    auto f = luks2::format(dev, as_bytes(PASSPHRASE), {});
    REQUIRE_MESSAGE(f.ok(), why(f));
    auto finished = luks2::finish_formatting(dev, f->first, f->second);
    REQUIRE(finished.ok());
    const std::string json = pre_token_json(finished.value());
    edit_headers(image, [&](int, Bytes& copy) { set_json(copy, json); });
    key = std::move(f->second);
}

// A volume of ours with the recovery keyslot whose token the host removed (both copies).
void make_stripped_with_recovery(const TempImage& image)
{
    auto dev = image.open();
    auto f = luks2::format(dev, as_bytes(PASSPHRASE), {}, as_bytes(RECOVERY));
    REQUIRE(f.ok());
    REQUIRE(luks2::finish_formatting(dev, f->first, f->second).ok());
    edit_headers(image, [&](int, Bytes& copy) {
        std::string json = json_of(copy);
        size_t from = json.find("\"tokens\":{\"0\":");
        size_t to = json.find(",\"segments\"");
        REQUIRE(from != std::string::npos);
        replace_json(copy, json.substr(from, to - from), "\"tokens\":{}");
    });
}

luks2::Volume inspect_adopt(const TempImage& image)
{
    auto dev = image.open();
    auto seen = luks2::inspect(dev);
    REQUIRE_MESSAGE(seen.ok(), why(seen));
    REQUIRE(seen->state == luks2::HeaderState::Valid);
    REQUIRE(seen->volume.has_value());
    CHECK_FALSE(seen->repair_secondary);
    const luks2::Volume& v = *seen->volume;
    CHECK(v.adopt);
    CHECK_FALSE(v.formatting);
    CHECK(v.generation == 0);
    CHECK_FALSE(v.derivation.has_value());
    CHECK(v.hmac == std::array<uint8_t, 32>{});
    return v;
}

// Both copies carry our token in the canonical form, identical, and the key authenticates them.
void check_ours(const TempImage& image, const SecretBytes& key, uint64_t generation)
{
    auto dev = image.open();
    auto seen = luks2::inspect(dev);
    REQUIRE_MESSAGE(seen.ok(), why(seen));
    CHECK_FALSE(seen->repair_secondary);
    CHECK_FALSE(seen->volume->adopt);
    CHECK(seen->volume->generation == generation);
    CHECK(luks2::authenticate(dev, *seen->volume, key).ok());
    Bytes primary(16384), secondary(16384);
    REQUIRE(dev.read_at(0, primary).ok());
    REQUIRE(dev.read_at(16384, secondary).ok());
    CHECK(json_of(primary) == json_of(secondary));
    CHECK(contains(json_of(primary), "\"tokens\":{\"0\":{\"type\":\"cvminit\",\"keyslots\":[],\"state\":\"ready\","
                                     "\"generation\":\"" +
                                         std::to_string(generation) + "\""));
}

// Writes `data` at the start of the volume's plaintext, or checks it is there.
void plaintext(const TempImage& image, const SecretBytes& key, const Bytes& data, bool write)
{
    auto dev = image.open();
    auto seen = luks2::inspect(dev);
    REQUIRE(seen.ok());
    auto view = CryptBlockDevice::open(dev, *seen->volume, key);
    REQUIRE_MESSAGE(view.ok(), why(view));
    if (write) {
        REQUIRE(view->write_at(0, data).ok());
        REQUIRE(view->flush().ok());
        return;
    }
    Bytes back(data.size());
    REQUIRE(view->read_at(0, back).ok());
    CHECK(back == data);
}

Bytes pattern()
{
    Bytes out(8192);
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<uint8_t>(i * 7 + 3);
    return out;
}

}  // namespace

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
