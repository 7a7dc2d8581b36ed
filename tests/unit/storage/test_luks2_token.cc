// The cvminit token and the header HMAC against a host that edits the disk: every binary header
// field the HMAC covers and every JSON member, edited in both copies with the checksums made
// good, still inspects (the structure is fine) but does not unlock; token shapes outside the
// profile are refused by name at inspect (no token at all is ADOPTION: test_luks2_adopt.cc); and nothing is ever
// written (the whole image's digest is compared before and after).
#include <doctest.h>

#include <span>

#include "base/secret.h"
#include "luks2_fixture.h"
#include "storage/luks2_volume.h"

using namespace cvm;
using namespace cvm::storage;
using namespace cvm::test;

namespace {

constexpr uint64_t IMAGE_SIZE = 17 << 20;
const Bytes PASSPHRASE(48, 0x42), RECOVERY(40, 0x52);

// A finished volume (state ready, generation 7) with a recovery keyslot and a derivation.
struct Ready {
    Ready() : image(IMAGE_SIZE)
    {
        auto dev = image.open();
        luks2::FormatOptions options;
        options.label = "data";
        options.generation = 7;
        options.derivation = luks2::Derivation{"chip-only", 5, 3, 0x1234};
        auto f = luks2::format(dev, PASSPHRASE, options, RECOVERY);
        REQUIRE_MESSAGE(f.ok(), test::why(f));
        auto finished = luks2::finish_formatting(dev, f->first, f->second);
        REQUIRE(finished.ok());
        volume = finished.value();
        key = std::move(f->second);
    }
    TempImage image;
    luks2::Volume volume;
    SecretBytes key;
};

// The edited image inspects, but neither keyslot unlocks it (Errc::Crypto), no rewrite starts
// from it, and the image is unchanged.
void expect_unauthenticated(const Ready& r, const char* what)
{
    CAPTURE(what);
    const crypto::Sha256Digest before = r.image.digest();
    auto dev = r.image.open();
    auto seen = luks2::inspect(dev);
    REQUIRE_MESSAGE(seen.ok(), test::why(seen));
    REQUIRE(seen->volume.has_value());
    for (unsigned slot : {0u, 1u}) {
        auto key = luks2::unlock(dev, *seen->volume, slot == 0 ? PASSPHRASE : RECOVERY, slot);
        REQUIRE_FALSE(key.ok());
        CHECK(key.error().code() == Errc::Crypto);
    }
    CHECK(luks2::set_generation(dev, *seen->volume, r.key, 8).error().code() == Errc::Crypto);
    CHECK(luks2::reenroll_keyslot0(dev, *seen->volume, r.key, PASSPHRASE, std::nullopt, 8).error().code() ==
          Errc::Crypto);
    CHECK(r.image.digest() == before);
}

void expect_refused(const Ready& r, Errc code, std::string_view needle)
{
    CAPTURE(needle);
    const crypto::Sha256Digest before = r.image.digest();
    auto dev = r.image.open();
    auto seen = luks2::inspect(dev);
    REQUIRE_FALSE(seen.ok());
    CHECK(seen.error().code() == code);
    CHECK(contains(seen.error().message(), needle));
    CHECK(r.image.digest() == before);
}

void edit_json(const Ready& r, const std::string& from, const std::string& to)
{
    edit_headers(r.image, [&](int, Bytes& copy) { replace_json(copy, from, to); });
}

}  // namespace

TEST_CASE("luks2 token: the unedited volume unlocks with either keyslot and authenticates")
{
    Ready r;
    auto dev = r.image.open();
    auto seen = luks2::inspect(dev);
    REQUIRE(seen.ok());
    CHECK(*seen->volume == r.volume);
    CHECK(r.volume.generation == 7);
    CHECK_FALSE(r.volume.formatting);
    CHECK(r.volume.derivation == luks2::Derivation{"chip-only", 5, 3, 0x1234});
    CHECK(r.volume.recovery_keyslot);
    CHECK(r.volume.recovery_area_offset == r.volume.keyslot_area_offset + r.volume.keyslot_area_size);
    for (unsigned slot : {0u, 1u}) {
        auto key = luks2::unlock(dev, r.volume, slot == 0 ? PASSPHRASE : RECOVERY, slot);
        REQUIRE_MESSAGE(key.ok(), test::why(key));
        CHECK(key->equals(r.key));
    }
    CHECK(luks2::unlock(dev, r.volume, RECOVERY, 0).error().code() == Errc::Crypto);
    CHECK(luks2::unlock(dev, r.volume, PASSPHRASE, 2).error().code() == Errc::Config);
    // The HMAC depends on the key: another key gives another one.
    CHECK(luks2::header_hmac(r.volume, r.key.expose()) == r.volume.hmac);
    Bytes other(64, 1);
    CHECK(luks2::header_hmac(r.volume, other) != r.volume.hmac);
}

TEST_CASE("luks2 token: every covered binary header field, edited in both copies, fails the HMAC")
{
    struct Case {
        const char* what;
        size_t offset;
        uint8_t value;
    };
    const Case cases[] = {
        {"seqid", 23, 9},         // seqid 2 -> 9, both copies: no crash state, just another seqid
        {"label", 24, 'D'},       // "data" -> "Data"
        {"label end", 28, 'x'},   // "data" -> "datax"
        {"uuid", 168 + 35, '0'},  // the last hex digit
    };
    for (const Case& c : cases) {
        Ready r;
        edit_headers(r.image, [&](int, Bytes& bytes) {
            if (bytes[c.offset] == c.value)
                bytes[c.offset] ^= 1;  // still printable / hex for these offsets
            else
                bytes[c.offset] = c.value;
        });
        expect_unauthenticated(r, c.what);
    }
}

TEST_CASE("luks2 token: every JSON member, edited in both copies within the profile, fails the HMAC")
{
    const std::pair<const char*, const char*> edits[] = {
        {"\"state\":\"ready\"", "\"state\":\"formatting\""},  // the formatting state injected
        {"\"generation\":\"7\"", "\"generation\":\"6\""},     // yesterday's generation
        {"\"generation\":\"7\"", "\"generation\":\"8\""},
        {"\"policy\":\"chip-only\"", "\"policy\":\"measurement-only\""},
        {"\"fields\":\"5\"", "\"fields\":\"4\""},
        {"\"guest_svn\":\"3\"", "\"guest_svn\":\"2\""},
        {"\"tcb_version\":\"4660\"", "\"tcb_version\":\"4659\""},
        {",\"derivation\":{\"policy\":\"chip-only\",\"fields\":\"5\",\"guest_svn\":\"3\",\"tcb_version\":\"4660\"}",
         ""},
        {"\"sector_size\":4096", "\"sector_size\":512"},
        {"\"keyslots_size\":\"16744448\"", "\"keyslots_size\":\"16740352\""},
        {"\"size\":\"dynamic\"", "\"size\":\"1044480\""},
        {"\"iterations\":1000,\"salt\"", "\"iterations\":1001,\"salt\""},  // keyslot 0's kdf
    };
    for (const auto& [from, to] : edits) {
        Ready r;
        edit_json(r, from, to);
        expect_unauthenticated(r, to);
    }
    {
        // The recovery keyslot dropped: keyslot 0 opens, the HMAC does not match.
        Ready r;
        edit_headers(r.image, [&](int, Bytes& copy) {
            std::string json(reinterpret_cast<const char*>(copy.data()) + 4096);
            size_t from = json.find(",\"1\":{\"type\":\"luks2\"");
            size_t to = json.find("},\"tokens\"");
            REQUIRE(from != std::string::npos);
            replace_json(copy, json.substr(from, to - from), "");
            replace_json(copy, "\"keyslots\":[\"0\",\"1\"]", "\"keyslots\":[\"0\"]");
        });
        const crypto::Sha256Digest before = r.image.digest();
        auto dev = r.image.open();
        auto seen = luks2::inspect(dev);
        REQUIRE(seen.ok());
        CHECK_FALSE(seen->volume->recovery_keyslot);
        auto key = luks2::unlock(dev, *seen->volume, PASSPHRASE);
        REQUIRE_FALSE(key.ok());
        CHECK(contains(key.error().message(), "LUKS2 header authentication failed"));
        CHECK(contains(key.error().message(), "(edited by the host?)"));
        CHECK(r.image.digest() == before);
    }
}

TEST_CASE("luks2 token: the hmac member altered, missing, the wrong length or case")
{
    {
        Ready r;
        std::string hmac = to_hex(r.volume.hmac), flipped = hmac;
        flipped[10] = flipped[10] == '0' ? '1' : '0';
        edit_json(r, hmac, flipped);
        expect_unauthenticated(r, "one hex digit of the hmac");
    }
    Ready r0;
    const std::string hmac = to_hex(r0.volume.hmac);
    struct Case {
        std::string to;
        const char* needle;
    };
    std::string upper = hmac;
    for (char& c : upper)
        c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
    const Case cases[] = {
        {hmac.substr(0, 62), "tokens.0.hmac is \""},
        {hmac + "00", "expected 64 lower-case hex digits"},
        {upper == hmac ? std::string(64, 'G') : upper, "expected 64 lower-case hex digits"},
    };
    for (const Case& c : cases) {
        Ready r;
        edit_json(r, "\"hmac\":\"" + to_hex(r.volume.hmac) + "\"", "\"hmac\":\"" + c.to + "\"");
        expect_refused(r, Errc::Format, c.needle);
    }
    Ready r;
    edit_json(r, ",\"hmac\":\"" + to_hex(r.volume.hmac) + "\"", "");
    expect_refused(r, Errc::Format, "tokens.0.hmac is missing");
}

TEST_CASE("luks2 token: no token, an old token, another token and token shapes outside the profile")
{
    auto token_of = [](const Ready& r) {
        auto dev = r.image.open();
        Bytes copy(16384);
        REQUIRE(dev.read_at(0, copy).ok());
        std::string json(reinterpret_cast<const char*>(copy.data()) + 4096);
        size_t from = json.find("\"tokens\":");
        size_t to = json.find(",\"segments\"");
        return json.substr(from, to - from);
    };
    struct Case {
        std::string to;  // the whole "tokens" member
        Errc code;
        const char* needle;
    };
    const Case cases[] = {
        {"\"tokens\":{\"0\":{\"type\":\"cvminit-formatting\",\"keyslots\":[]}}", Errc::Unsupported,
         "tokens.0.type is \"cvminit-formatting\", the token of an earlier cvminit"},
        {"\"tokens\":{\"0\":{\"type\":\"luks2-keyring\",\"keyslots\":[\"0\"],\"key_description\":\"k\"}}",
         Errc::Unsupported, "tokens.0.type is \"luks2-keyring\", expected only our \"cvminit\" token"},
        {"\"tokens\":{\"1\":{\"type\":\"cvminit\",\"keyslots\":[]}}", Errc::Format, "tokens has member \"1\""},
        {"\"tokens\":{\"0\":{\"keyslots\":[]}}", Errc::Unsupported, "tokens.0.type is missing"},
    };
    for (const Case& c : cases) {
        Ready r;
        edit_json(r, token_of(r), c.to);
        expect_refused(r, c.code, c.needle);
    }
    {
        // No token at all is a volume to adopt (luks2_volume.h ADOPTION): generation 0, nothing
        // authenticated. The broker, which knows generation 7, refuses to release its key for 0.
        Ready r;
        edit_json(r, token_of(r), "\"tokens\":{}");
        const crypto::Sha256Digest before = r.image.digest();
        auto dev = r.image.open();
        auto seen = luks2::inspect(dev);
        REQUIRE_MESSAGE(seen.ok(), test::why(seen));
        CHECK(seen->volume->adopt);
        CHECK(seen->volume->generation == 0);
        CHECK_FALSE(seen->volume->derivation.has_value());
        CHECK(seen->volume->recovery_keyslot);
        CHECK(luks2::unlock(dev, *seen->volume, PASSPHRASE).ok());
        CHECK(luks2::set_generation(dev, *seen->volume, r.key, 8).error().code() == Errc::Config);
        CHECK(r.image.digest() == before);
    }
    const std::pair<const char*, const char*> members[] = {
        {"\"state\":\"ready\"", "\"state\":\"finished\""},
        {"\"generation\":\"7\"", "\"generation\":7"},
        {"\"generation\":\"7\"", "\"generation\":\"07\""},
        {"\"policy\":\"chip-only\"", "\"policy\":\"chip-and-moon\""},
        {"\"guest_svn\":\"3\"", "\"guest_svn\":\"4294967296\""},
        {"\"keyslots\":[],", "\"keyslots\":[],\"extra\":1,"},
        {"\"state\":\"ready\",", ""},
    };
    const char* needles[] = {"tokens.0.state is \"finished\"",
                             "tokens.0.generation is 7, expected a decimal number",
                             "tokens.0.generation is \"07\"",
                             "tokens.0.derivation.policy is \"chip-and-moon\"",
                             "tokens.0.derivation.guest_svn is 4294967296, expected at most 4294967295",
                             "tokens.0 has member \"extra\"",
                             "tokens.0.state is missing"};
    for (size_t i = 0; i < std::size(members); ++i) {
        Ready r;
        edit_json(r, members[i].first, members[i].second);
        expect_refused(r, i == 3 ? Errc::Unsupported : Errc::Format, needles[i]);
    }
}

TEST_CASE("luks2 token: JSON outside the canonical form is refused even when it means the same")
{
    Ready r;
    edit_json(r, "\"state\":\"ready\",", "\"state\": \"ready\",");
    expect_refused(r, Errc::Format, "differs at byte");
    Ready reordered;
    edit_json(reordered, "\"state\":\"ready\",\"generation\":\"7\"", "\"generation\":\"7\",\"state\":\"ready\"");
    expect_refused(reordered, Errc::Format, "from the canonical form cvminit writes");
}

TEST_CASE("luks2 token: set_generation and reenroll_keyslot0 re-MAC, and refuse a header that moved")
{
    Ready r;
    auto dev = r.image.open();
    auto bumped = luks2::set_generation(dev, r.volume, r.key, 8);
    REQUIRE_MESSAGE(bumped.ok(), test::why(bumped));
    CHECK(bumped->generation == 8);
    CHECK(bumped->seqid == r.volume.seqid + 1);
    CHECK(bumped->hmac != r.volume.hmac);
    CHECK(luks2::unlock(dev, bumped.value(), PASSPHRASE).ok());
    // From the Volume before the bump: the device no longer holds it.
    const crypto::Sha256Digest moved = r.image.digest();
    CHECK(luks2::set_generation(dev, r.volume, r.key, 9).error().code() == Errc::Config);
    CHECK(r.image.digest() == moved);

    const Bytes NEW(33, 0x4e);
    auto reenrolled = luks2::reenroll_keyslot0(dev, bumped.value(), r.key, NEW, std::nullopt, 9);
    REQUIRE_MESSAGE(reenrolled.ok(), test::why(reenrolled));
    CHECK_FALSE(reenrolled->derivation.has_value());
    CHECK(reenrolled->keyslot_kdf.salt != bumped->keyslot_kdf.salt);
    CHECK(luks2::unlock(dev, reenrolled.value(), NEW).ok());
    CHECK(luks2::unlock(dev, reenrolled.value(), PASSPHRASE).error().code() == Errc::Crypto);
    CHECK(luks2::unlock(dev, reenrolled.value(), RECOVERY, 1).ok());
    // Again: keyslot 0 moves back to the first free area, keyslot 1 stays where it is.
    auto again = luks2::reenroll_keyslot0(dev, reenrolled.value(), r.key, PASSPHRASE, std::nullopt, 10);
    REQUIRE(again.ok());
    CHECK(again->keyslot_area_offset == r.volume.keyslot_area_offset);
    CHECK(again->recovery_area_offset == r.volume.recovery_area_offset);
    CHECK(luks2::unlock(dev, again.value(), PASSPHRASE).ok());

    // Refusals before any write: a bad derivation, a short passphrase, no recovery keyslot.
    const crypto::Sha256Digest before = r.image.digest();
    luks2::Derivation bad{"everything", 0, 0, 0};
    CHECK(luks2::reenroll_keyslot0(dev, again.value(), r.key, NEW, bad, 11).error().code() == Errc::Config);
    CHECK(luks2::reenroll_keyslot0(dev, again.value(), r.key, Bytes(15, 1), std::nullopt, 11).error().code() ==
          Errc::Config);
    CHECK(r.image.digest() == before);
    TempImage plain(IMAGE_SIZE);
    auto plain_dev = plain.open();
    auto f = luks2::format(plain_dev, PASSPHRASE, {});
    REQUIRE(f.ok());
    CHECK(luks2::reenroll_keyslot0(plain_dev, f->first, f->second, NEW, std::nullopt, 2).error().code() ==
          Errc::Config);
}
