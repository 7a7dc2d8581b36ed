// Adversarial LUKS2 headers: a valid header of our own is edited one field at a time (JSON text
// in both copies, checksums recomputed), and each edit must be rejected with the field named,
// the value found shown, and the device left byte-for-byte as it was.
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
const Bytes PASSPHRASE(48, 0x42);

struct Formatted {
    Formatted() : image(IMAGE_SIZE)
    {
        auto dev = image.open();
        auto f = luks2::format(dev, PASSPHRASE, {});
        REQUIRE(f.ok());
        volume = f->first;
        key = std::move(f->second);
    }
    TempImage image;
    luks2::Volume volume;
    SecretBytes key;
};

// Inspects the edited image, expects a failure with `code` whose message contains every
// `needle`, and checks that neither inspect() nor a refused finish_formatting() wrote anything.
void expect_rejected(const Formatted& f, Errc code, std::initializer_list<std::string_view> needles)
{
    crypto::Sha256Digest before = f.image.digest();
    auto dev = f.image.open();
    auto result = luks2::inspect(dev);
    REQUIRE_FALSE(result.ok());
    std::string message(result.error().message());
    CAPTURE(message);
    CHECK(result.error().code() == code);
    for (std::string_view needle : needles)
        CHECK(contains(message, needle));
    CHECK(message.size() < Error::MESSAGE_CAPACITY - 1);  // not truncated
    CHECK_FALSE(luks2::finish_formatting(dev, f.volume, f.key).ok());
    CHECK(f.image.digest() == before);
}

void edit_json(const Formatted& f, const std::string& from, const std::string& to)
{
    edit_headers(f.image, [&](int, Bytes& copy) { replace_json(copy, from, to); });
}

// One edit of the JSON text (the first occurrence of `from` becomes `to`, in both copies) and the
// rejection it must bring.
struct JsonEdit {
    const char* from;
    const char* to;
    Errc code;
    std::initializer_list<std::string_view> needles;
};

// Each edit on a freshly formatted image of its own, rejected as expect_rejected() checks.
void expect_edits_rejected(std::span<const JsonEdit> edits)
{
    for (const JsonEdit& e : edits) {
        CAPTURE(e.to);
        Formatted f;
        edit_json(f, e.from, e.to);
        expect_rejected(f, e.code, e.needles);
    }
}

}  // namespace

TEST_CASE("luks2 header: the unedited header is valid (the baseline of every case below)")
{
    Formatted f;
    auto dev = f.image.open();
    auto result = luks2::inspect(dev);
    REQUIRE(result.ok());
    CHECK(*result->volume == f.volume);
    // The fixture's checksum helper reproduces what format() wrote.
    edit_headers(f.image, [](int, Bytes&) {});
    CHECK(luks2::inspect(dev).ok());
}

TEST_CASE("luks2 header: algorithms and sizes outside the profile are refused by name")
{
    const JsonEdit edits[] = {
        {"\"encryption\":\"aes-xts-plain64\",\"sector_size\"",
         "\"encryption\":\"cipher_null\",\"sector_size\"",
         Errc::Unsupported,
         {"segments.0.encryption is \"cipher_null\", expected \"aes-xts-plain64\""}},
        {"\"encryption\":\"aes-xts-plain64\",\"key_size\"",
         "\"encryption\":\"aes-cbc-essiv:sha256\",\"key_size\"",
         Errc::Unsupported,
         {"keyslots.0.area.encryption is \"aes-cbc-essiv:sha256\""}},
        {"\"stripes\":4000", "\"stripes\":3999", Errc::Unsupported, {"keyslots.0.af.stripes is 3999, expected 4000"}},
        {"\"stripes\":4000,\"hash\":\"sha256\"",
         "\"stripes\":4000,\"hash\":\"sha1\"",
         Errc::Unsupported,
         {"keyslots.0.af.hash is \"sha1\", expected \"sha256\""}},
        {"\"af\":{\"type\":\"luks1\"", "\"af\":{\"type\":\"luks2\"", Errc::Unsupported, {"keyslots.0.af.type"}},
        {"\"key_size\":64,\"af\"",
         "\"key_size\":32,\"af\"",
         Errc::Unsupported,
         {"keyslots.0.key_size is 32, expected 64"}},
        {"\"aes-xts-plain64\",\"key_size\":64",
         "\"aes-xts-plain64\",\"key_size\":32",
         Errc::Unsupported,
         {"keyslots.0.area.key_size is 32"}},
        {"\"kdf\":{\"type\":\"pbkdf2\",\"hash\":\"sha256\",\"iterations\":1000,",
         "\"kdf\":{\"type\":\"argon2id\",\"time\":4,\"memory\":1048576,\"cpus\":4,",
         Errc::Unsupported,
         {"keyslots.0.kdf.type is \"argon2id\", expected \"pbkdf2\""}},
        {"\"iterations\":1000,\"salt\"",
         "\"iterations\":999,\"salt\"",
         Errc::Format,
         {"keyslots.0.kdf.iterations is 999, expected an integer in [1000, 10000000]"}},
        {"\"sector_size\":4096", "\"sector_size\":1024", Errc::Unsupported, {"segments.0.sector_size is 1024"}},
        {"\"iv_tweak\":\"0\"", "\"iv_tweak\":\"8\"", Errc::Unsupported, {"segments.0.iv_tweak is \"8\""}},
        {"\"type\":\"crypt\"", "\"type\":\"linear\"", Errc::Unsupported, {"segments.0.type is \"linear\""}},
        {"\"json_size\":\"12288\"",
         "\"json_size\":\"16384\"",
         Errc::Unsupported,
         {"config.json_size is \"16384\", expected \"12288\""}},
        {"\"json_size\":\"12288\"",
         "\"requirements\":{\"mandatory\":[\"online-reencrypt-v2\"]},\"json_size\":\"12288\"",
         Errc::Unsupported,
         {"config.requirements.mandatory holds \"online-reencrypt-v2\""}},
        {"\"json_size\":\"12288\"",
         "\"flags\":[\"allow-discards\"],\"json_size\":\"12288\"",
         Errc::Unsupported,
         {"config.flags holds \"allow-discards\""}},
        {"\"tokens\":{\"0\":{\"type\":\"cvminit\"",
         "\"tokens\":{\"1\":{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"]},\"0\":{\"type\":\"cvminit\"",
         Errc::Unsupported,
         {"tokens.1.type is \"systemd-tpm2\""}},
        {"\"tokens\":{\"0\":{\"type\":\"cvminit\"",
         "\"tokens\":{\"3\":{\"type\":\"\\u0001evil\\\"\",\"keyslots\":[]},\"0\":{\"type\":\"cvminit\"",
         Errc::Unsupported,
         {"tokens.3.type is \"\\x01evil\\x22\""}},
        {"\"keyslots\":[],", "\"keyslots\":[\"0\"],", Errc::Format, {"tokens.0.keyslots is an array of 1"}},
    };
    expect_edits_rejected(edits);
}

TEST_CASE("luks2 header: only one keyslot, segment and digest, linked to each other")
{
    const JsonEdit edits[] = {
        {"{\"keyslots\":{\"0\":",
         "{\"keyslots\":{\"2\":{\"type\":\"luks2\"},\"0\":",
         Errc::Unsupported,
         {"keyslots holds \"2\", expected only \"0\" and \"1\""}},
        {"{\"keyslots\":{\"0\":",
         "{\"keyslots\":{\"1\":{\"type\":\"luks2\"},\"0\":",
         Errc::Format,
         {"keyslots.1.key_size is missing"}},
        {"}},\"digests\"", "},\"1\":{\"type\":\"crypt\"}},\"digests\"", Errc::Unsupported, {"segments holds \"1\""}},
        {"}},\"config\"", "},\"1\":{\"type\":\"pbkdf2\"}},\"config\"", Errc::Unsupported, {"digests holds \"1\""}},
        {"\"keyslots\":[\"0\"]", "\"keyslots\":[\"1\"]", Errc::Format, {"digests.0.keyslots is an array of 1"}},
        {"\"segments\":[\"0\"]", "\"segments\":[\"0\",\"0\"]", Errc::Format, {"digests.0.segments is an array of 2"}},
        {"\"segments\":{\"0\":{",
         "\"segments\":{\"0\":{\"flags\":[],",
         Errc::Format,
         {"segments.0 has member \"flags\""}},
        {"\"type\":\"crypt\",",
         "\"type\":\"crypt\",\"type\":\"crypt\",",
         Errc::Format,
         {"segments.0 has member \"type\" twice"}},
        {"\"config\":{", "\"metadata\":{},\"config\":{", Errc::Format, {"the JSON object has member \"metadata\""}},
        {"\"kdf\":{\"type\":\"pbkdf2\",",
         "\"kdf\":{\"type\":\"pbkdf2\",\"extra\":1,",
         Errc::Format,
         {"keyslots.0.kdf has member \"extra\""}},
        {"\"iterations\":1000,\"salt\":\"",
         "\"iterations\":1000,\"salt\":\"AAAA",
         Errc::Format,
         {"keyslots.0.kdf.salt is", "expected the padded base64 of 32 bytes"}},
    };
    expect_edits_rejected(edits);
}

TEST_CASE("luks2 header: the layout must stay inside the keyslots area and the device")
{
    const JsonEdit edits[] = {
        {"\"offset\":\"16777216\"",
         "\"offset\":\"1099511627776\"",
         Errc::Format,
         {"segments.0.offset is 1099511627776, expected an offset inside the device of 17825792"}},
        {"\"size\":\"dynamic\"",
         "\"size\":\"2097152\"",
         Errc::Format,
         {"segments.0.size is 2097152, expected a size inside the device, at most 1048576"}},
        {"\"size\":\"dynamic\"",
         "\"size\":\"18446744073709551615\"",
         Errc::Format,
         {"segments.0.size is 18446744073709551615"}},
        {"\"size\":\"dynamic\"",
         "\"size\":\"18446744073709551616\"",
         Errc::Format,
         {"segments.0.size is \"18446744073709551616\", expected a decimal number"}},
        {"\"size\":\"dynamic\"", "\"size\":\"0100\"", Errc::Format, {"segments.0.size is \"0100\""}},
        {"\"size\":\"dynamic\"", "\"size\":4096", Errc::Format, {"segments.0.size is 4096, expected a decimal number"}},
        {"\"offset\":\"16777216\"",
         "\"offset\":\"16773120\"",
         Errc::Format,
         {"segments.0.offset is 16773120, expected a multiple of 4096 of at least 16777216"}},
        {"\"offset\":\"32768\"", "\"offset\":\"16773120\"", Errc::Format, {"keyslots.0.area.size is 258048"}},
        {"\"offset\":\"32768\"", "\"offset\":\"16384\"", Errc::Format, {"keyslots.0.area.offset is 16384"}},
        {"\"size\":\"258048\"", "\"size\":\"253952\"", Errc::Format, {"keyslots.0.area.size is 253952"}},
        {"\"keyslots_size\":\"16744448\"",
         "\"keyslots_size\":\"16748544\"",
         Errc::Format,
         {"segments.0.offset is 16777216"}},
        {"\"keyslots_size\":\"16744448\"",
         "\"keyslots_size\":\"16744449\"",
         Errc::Format,
         {"config.keyslots_size is 16744449"}},
    };
    expect_edits_rejected(edits);
}

TEST_CASE("luks2 header: the JSON area holds one JSON text, a NUL and only NULs")
{
    {
        Formatted f;
        edit_headers(f.image, [](int, Bytes& copy) { copy[16383] = 'x'; });
        expect_rejected(f, Errc::Format, {"primary copy JSON area has byte 0x78 at 12287", "expected only NULs"});
    }
    {
        Formatted f;
        edit_headers(f.image, [](int, Bytes& copy) {
            std::string json(reinterpret_cast<const char*>(copy.data()) + 4096);
            copy[4096 + json.size()] = ' ';
            copy[4096 + json.size() + 1] = '{';
        });
        expect_rejected(f, Errc::Format, {"JSON area is not valid JSON"});
    }
    {
        Formatted f;
        edit_headers(f.image, [](int, Bytes& copy) { memset(copy.data() + 4096, '{', 12288); });
        expect_rejected(f, Errc::Format, {"JSON area has no terminating NUL"});
    }
    {
        Formatted f;
        edit_headers(f.image, [](int, Bytes& copy) { memset(copy.data() + 4096, 0, 12288); });
        expect_rejected(f, Errc::Format, {"JSON area is empty"});
    }
}

TEST_CASE("luks2 header: binary header fields of each copy")
{
    struct Case {
        int copy;  // 0 primary, 1 secondary, 2 both
        size_t offset;
        uint8_t value;
        Errc code;
        std::initializer_list<std::string_view> needles;
    };
    const Case cases[] = {
        {0, 5, 0xbf, Errc::Format, {"primary copy magic is \"LUKS\\xba\\xbf\", expected \"LUKS\\xba\\xbe\""}},
        {1, 0, 'L', Errc::Format, {"secondary copy magic is \"LKUL\\xba\\xbe\""}},
        {2, 7, 1, Errc::Unsupported, {"primary copy version is 1, expected 2"}},
        {2, 14, 0x80, Errc::Unsupported, {"primary copy hdr_size is 32768, expected 16384"}},
        {2, 72 + 5, '5', Errc::Unsupported, {"checksum_alg is \"sha255\""}},
        {2, 24, 0x07, Errc::Format, {"primary copy label is \"\\x07", "printable text"}},
        {2, 168, 'A', Errc::Format, {"primary copy uuid is \"A", "lower-case UUID"}},
        {2, 208, 'x', Errc::Format, {"primary copy subsystem is \"x\", expected empty"}},
        {1, 262, 0, Errc::Format, {"secondary copy hdr_offset is 0, expected 16384"}},
        {2, 300, 1, Errc::Format, {"primary copy: ", "_padding"}},
        {2, 4000, 1, Errc::Format, {"primary copy: ", "_padding4096"}},
        {1, 23, 2, Errc::Format, {"copies differ in seqid (primary 1, secondary 2)"}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.offset);
        Formatted f;
        edit_headers(f.image, [&](int copy, Bytes& bytes) {
            if (c.copy == 2 || c.copy == copy)
                bytes[c.offset] = c.value;
        });
        expect_rejected(f, c.code, c.needles);
    }
}

TEST_CASE("luks2 header: a bad checksum in either copy, and copies that differ, are refused")
{
    for (int bad : {0, 1}) {
        Formatted f;
        edit_headers(
            f.image,
            [&](int copy, Bytes& bytes) {
                if (copy == bad)
                    bytes[5000] ^= 0x20;
            },
            false);
        expect_rejected(f, Errc::Format, {bad == 0 ? "primary copy checksum" : "secondary copy checksum"});
    }
    {
        Formatted f;
        edit_headers(f.image, [](int copy, Bytes& bytes) {
            if (copy == 1)
                replace_json(bytes, "\"iterations\":1000,\"salt\"", "\"iterations\":1001,\"salt\"");
        });
        expect_rejected(f, Errc::Format, {"copies differ in JSON area at byte"});
    }
    {
        Formatted f;  // the checksum's unused tail must be zero (it is outside what the checksum covers)
        edit_headers(
            f.image, [](int copy, Bytes& bytes) { bytes[480] = static_cast<uint8_t>(copy == 0); }, false);
        expect_rejected(f, Errc::Format, {"primary copy checksum does not match"});
    }
    {
        Formatted f;
        edit_headers(f.image, [](int copy, Bytes& bytes) {
            if (copy == 1)
                bytes[24] = 'x';
        });
        expect_rejected(f, Errc::Format, {"copies differ in label (primary \"\", secondary \"x\")"});
    }
    {
        Formatted f;
        edit_headers(f.image, [](int copy, Bytes& bytes) {
            if (copy == 0)
                bytes[168] = bytes[168] == 'a' ? 'b' : 'a';
        });
        expect_rejected(f, Errc::Format, {"copies differ in uuid"});
    }
}
