// [[policy.release]], [releases] and the resources' releases and host_data in the broker's
// configuration: what a release-only broker needs, and every way the configuration can be wrong,
// each failing with the key or file it names.
#include <doctest.h>

#include <string>

#include "attest_harness.h"
#include "base/file.h"
#include "config.h"
#include "release_fixture.h"
#include "summary.h"

using namespace cvm;
using namespace cvm::test;

namespace {

constexpr int64_t T0 = 1'800'000'000;  // FakeClock's start

bool contains(std::string_view haystack, std::string_view needle)
{
    return haystack.find(needle) != std::string_view::npos;
}

Result<broker::BrokerConfig> parse(const BrokerFiles& files, const std::string& text)
{
    return broker::parse_broker_config(text, files.dir());
}

// The configuration error of `text`, which must fail.
std::string failure(const BrokerFiles& files, const std::string& text)
{
    auto c = parse(files, text);
    REQUIRE_FALSE(c.ok());
    return std::string(c.error().message());
}

}  // namespace

TEST_CASE("release config: a release key and a releases directory are a whole policy, no measurement list")
{
    BrokerFiles files;
    write_bundle(files, "v1.sigstore.json", release_statement(matrix_shapes(), T0 - 86400, T0 + 86400));
    files.write("releases/notes.txt", "ignored: not a bundle");
    auto c = parse(files, release_config_text(files, "max_age = 7776000\nnot_after = 2030-01-01T00:00:00Z\n"));
    REQUIRE_MESSAGE(c.ok(), std::string(c.ok() ? "" : c.error().message()));
    CHECK(c->policy.measurements.empty());
    REQUIRE(c->releases.trusts().size() == 1);
    const broker::ReleaseTrust& prod = c->releases.trusts()[0];
    CHECK(prod.name == "prod");
    CHECK(prod.max_age == std::optional<int64_t>(7776000));
    CHECK(prod.not_after == std::optional<int64_t>(1893456000));  // date -d 2030-01-01Z +%s
    CHECK_FALSE(prod.require_tlog);
    REQUIRE(c->releases.releases().size() == 1);
    const broker::TrustedRelease& r = c->releases.releases()[0];
    CHECK(r.file == "v1.sigstore.json");
    CHECK(r.digest.size() == 64);
    CHECK(r.expires == std::optional<int64_t>(T0 + 86400));  // its own not_after, the earliest
    CHECK(contains(r.label(), "release " + r.digest.substr(0, 12) + " (not_after "));
    REQUIRE(c->secrets.size() == 1);
    CHECK(c->secrets[0].releases == std::vector<std::string>{"prod"});
    CHECK(c->secrets[0].measurements.empty());
    std::string summary = broker::policy_summary(c.value());
    CHECK_MESSAGE(contains(summary, "policy.release 'prod'"), summary);
    CHECK_MESSAGE(contains(summary, "db (releases prod)"), summary);
}

TEST_CASE("release config: the expiry is the earliest of the release's not_after, the entry's, and max_age")
{
    BrokerFiles files;
    write_bundle(files, "a.sigstore.json", release_statement(matrix_shapes(), T0, std::nullopt));
    SUBCASE("no limit at all: no expiry")
    {
        auto c = parse(files, release_config_text(files));
        REQUIRE(c.ok());
        CHECK_FALSE(c->releases.releases()[0].expires);
        CHECK(contains(c->releases.releases()[0].label(), "(no expiry)"));
    }
    SUBCASE("max_age counts from source_date_epoch")
    {
        auto c = parse(files, release_config_text(files, "max_age = 100\n"));
        REQUIRE(c.ok());
        CHECK(c->releases.releases()[0].expires == std::optional<int64_t>(T0 + 100));
    }
    SUBCASE("the entry's not_after, as seconds, when earlier")
    {
        auto c =
            parse(files, release_config_text(files, "max_age = 100\nnot_after = " + std::to_string(T0 + 50) + "\n"));
        REQUIRE(c.ok());
        CHECK(c->releases.releases()[0].expires == std::optional<int64_t>(T0 + 50));
    }
    SUBCASE("a date-time with another offset is the same instant")
    {
        auto c = parse(files, release_config_text(files, "not_after = 2030-01-01T02:00:00+02:00\n"));
        REQUIRE(c.ok());
        CHECK(c->releases.releases()[0].expires == std::optional<int64_t>(1893456000));
    }
}

TEST_CASE("release config: each mistake names its key or file, refusing")
{
    BrokerFiles files;
    std::string good = release_config_text(files);
    auto with = [&](const std::string& from, const std::string& to) {
        std::string text = good;
        size_t at = text.find(from);
        REQUIRE(at != std::string::npos);
        return text.replace(at, from.size(), to);
    };
    CHECK(contains(failure(files, release_config_text(files, "identity = \"ci@example.com\"\n")),
                   "policy.release[0].identity': keyless releases"));
    CHECK(contains(failure(files, release_config_text(files, "issuer = \"https://token.actions\"\n")),
                   "policy.release[0].issuer'"));
    CHECK(contains(failure(files, release_config_text(files, "colour = 1\n")), "policy.release[0].colour"));
    CHECK(contains(failure(files, release_config_text(files, "require_tlog = true\n")),
                   "policy.release[0].trusted_root': missing"));
    CHECK(contains(failure(files, release_config_text(files, "max_age = 0\n")), "policy.release[0].max_age"));
    CHECK(contains(failure(files, release_config_text(files, "not_after = 2030-01-01T00:00:00\n")),
                   "policy.release[0].not_after': expected a UTC date-time"));
    CHECK(
        contains(failure(files, release_config_text(files, "not_after = \"2030\"\n")), "policy.release[0].not_after"));
    CHECK(contains(failure(files, with("name = \"prod\"\nkey", "key")), "policy.release[0].name"));
    CHECK(contains(failure(files, with("name = \"prod\"\nkey", "name = \"a b\"\nkey")), "policy.release[0].name"));
    CHECK(
        contains(failure(files, with("key = \"release.pub\"\n", "key = \"missing.pub\"\n")), "policy.release[0].key"));
    files.write("broker.pub", "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n");
    CHECK(contains(failure(files, with("key = \"release.pub\"\n", "key = \"broker.pub\"\n")), "policy.release[0].key"));
    CHECK(contains(failure(files, good + "\n[[policy.release]]\nname = \"prod\"\nkey = \"release.pub\"\n"),
                   "policy.release[1].name': another"));
    CHECK(contains(failure(files, good + "\n[[policy.release]]\nname = \"test\"\nkey = \"release.pub\"\n"),
                   "policy.release[1].key': another"));
    CHECK(contains(failure(files, with("\n[releases]\ndir = \"releases\"\n", "")), "'releases': missing"));
    CHECK(contains(failure(files, with("dir = \"releases\"", "dir = \"nowhere\"")), "releases.dir"));
    CHECK(contains(failure(files, with("dir = \"releases\"", "dir = \"releases\"\nwatch = true")), "releases.watch"));
    // Without [[policy.release]], [releases] alone and a resource naming releases are errors.
    std::string no_entry = release_config_text(files, "", "", "measurements = [\"" + GOOD_MEASUREMENT + "\"]\n");
    no_entry.replace(no_entry.find("\n[[policy.release]]"), 54, "");
    CHECK_MESSAGE(contains(failure(files, no_entry), "'releases': is set without [[policy.release]]"),
                  failure(files, no_entry));
    // Without [[policy.release]] the policy still needs its measurement list.
    CHECK(contains(failure(files, with("\n[[policy.release]]\nname = \"prod\"\nkey = \"release.pub\"\n", "")),
                   "policy key 'measurements': missing"));
    CHECK(contains(failure(files, with("releases = [\"prod\"]", "releases = [\"staging\"]")),
                   "secret[0].releases': names no [[policy.release]]"));
    CHECK(contains(failure(files, with("releases = [\"prod\"]", "releases = []")), "secret[0].releases"));
    CHECK(contains(failure(files, with("releases = [\"prod\"]\n", "")), "secret[0].measurements': missing"));
    // A measurement list on the resource must still be one the policy accepts.
    CHECK(contains(failure(files, with("releases = [\"prod\"]", "measurements = [\"" + GOOD_MEASUREMENT + "\"]")),
                   "secret[0].measurements': lists a measurement that policy.measurements does not accept"));
    CHECK(contains(failure(files, release_config_text(files, "", "host_data = [\"abcd\"]\n")), "secret[0].host_data"));
    CHECK(contains(failure(files, release_config_text(files, "", "host_data = []\n")), "secret[0].host_data"));
}

TEST_CASE("release config: a bundle that does not verify fails the load, naming the file")
{
    BrokerFiles files;
    SUBCASE("signed with a key no entry names")
    {
        write_bundle(files, "rogue.sigstore.json", release_statement(matrix_shapes(), T0, std::nullopt),
                     other_release_key());
        std::string e = failure(files, release_config_text(files));
        CHECK_MESSAGE(contains(e, "rogue.sigstore.json: signed with the key "), e);
        CHECK_MESSAGE(contains(e, "which no [[policy.release]] key is"), e);
    }
    SUBCASE("its payload changed after signing")
    {
        write_bundle(files, "v1.sigstore.json", release_statement(matrix_shapes(), T0, std::nullopt));
        std::string path = files.dir() + "/releases/v1.sigstore.json";
        std::string text = read_text_file(path, 1 << 20).value();
        size_t payload = text.find("\"payload\":\"");
        REQUIRE(payload != std::string::npos);
        char& c = text[payload + 20];
        c = c == 'A' ? 'B' : 'A';
        files.write("releases/v1.sigstore.json", text);
        std::string e = failure(files, release_config_text(files));
        CHECK_MESSAGE(contains(e, "v1.sigstore.json (policy.release 'prod')"), e);
    }
    SUBCASE("not JSON")
    {
        std::string text = release_config_text(files);
        files.write("releases/x.sigstore.json", "{");
        CHECK(contains(failure(files, text), "x.sigstore.json"));
    }
    SUBCASE("no tlog entry while the entry requires one")
    {
        write_bundle(files, "v1.sigstore.json", release_statement(matrix_shapes(), T0, std::nullopt));
        files.write("root.json",
                    R"({"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",)"
                    R"( "tlogs": [], "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": []})");
        auto c = parse(files, release_config_text(files, "require_tlog = true\ntrusted_root = \"root.json\"\n"));
        if (c.ok()) {
            FAIL("a bundle without a tlog entry loaded under require_tlog");
        } else {
            INFO(c.error().message());
            bool named = contains(c.error().message(), "policy.release[0].trusted_root") ||
                         contains(c.error().message(), "v1.sigstore.json");
            CHECK(named);
        }
    }
}
