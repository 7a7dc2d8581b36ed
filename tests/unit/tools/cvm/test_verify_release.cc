// cvm verify --release: the flags (release_input) and the three claims (release_claims) on
// bundles lib/release signs, for a report inside the release, outside it, after its not_after,
// with another key, a changed payload, another HOST_DATA, and no report at all.
#include <doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "base/bytes.h"
#include "base/file.h"
#include "release/bundle.h"
#include "verify_release.h"

using namespace cvm;
using namespace cvm::cli;

namespace {

constexpr int64_t SDE = 1'700'000'000;
constexpr int64_t NOT_AFTER = SDE + 86400;

const release::SigningKey& key()
{
    static const release::SigningKey k = release::SigningKey::generate(release::KeyKind::EcdsaP256).release_value();
    return k;
}

release::Statement statement(std::optional<std::array<uint8_t, 32>> host_data = std::nullopt)
{
    release::Statement s;
    release::Subject kernel;
    kernel.name = "kernel";
    kernel.sha256.fill(0x4b);
    s.subjects.push_back(kernel);
    s.predicate.tool = "cvm 0.1.0";
    s.predicate.source_date_epoch = SDE;
    s.predicate.not_after = NOT_AFTER;
    s.predicate.policy = 0x30000;
    s.predicate.cmdline = "console=ttyS0";
    s.predicate.host_data = host_data;
    for (uint32_t vcpus : {1u, 2u}) {
        release::ShapeMeasurement m;
        m.shape = {vcpus, "EPYC-Milan", "QEMU"};
        m.measurement.fill(static_cast<uint8_t>(0x10 + vcpus));
        s.predicate.shapes.push_back(m);
    }
    return s;
}

ReleaseInput input(const release::Statement& s, const release::PublicKey& public_key = key().public_key())
{
    return {"release.sigstore.json", release::make_bundle(s, key()).value(), public_key, false, std::nullopt};
}

snp::AttestationReport report_of(uint8_t fill, uint8_t host_data = 0)
{
    snp::AttestationReport r{};
    r.measurement.fill(fill);
    r.host_data.fill(host_data);
    return r;
}

const Claim& named(const std::vector<Claim>& claims, const std::string& name)
{
    for (const Claim& c : claims) {
        if (c.name == name)
            return c;
    }
    FAIL("no claim " << name);
    return claims.front();
}

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

Result<std::optional<ReleaseInput>> input_of(std::vector<std::string> argv)
{
    Args args = Args::parse(argv, verify_release_flags()).value();
    return release_input(args);
}

}  // namespace

TEST_CASE("verify --release: a shape of a fresh release passes all three claims")
{
    auto claims = release_claims(input(statement()), report_of(0x12), SDE + 10);
    REQUIRE(claims.size() == 3);
    CHECK(claims[0].name == "release.signature");
    CHECK(claims[1].name == "release.fresh");
    CHECK(claims[2].name == "release.measurement");
    for (const Claim& c : claims)
        CHECK_MESSAGE(c.pass, c.name << ": " << c.detail);
    CHECK(contains(named(claims, "release.signature").found, ", no tlog entry"));
    CHECK(contains(named(claims, "release.signature").detail, "statement digest sha256:"));
    CHECK(named(claims, "release.fresh").found == "not_after 2023-11-15T22:13:20Z, now 2023-11-14T22:13:30Z");
    CHECK(named(claims, "release.measurement").found == to_hex(report_of(0x12).measurement));
    CHECK(named(claims, "release.measurement").detail == "the shape 2 vCPUs EPYC-Milan QEMU");
}

TEST_CASE("verify --release: each failure is its own claim, naming what was found")
{
    SUBCASE("a MEASUREMENT outside the release")
    {
        auto claims = release_claims(input(statement()), report_of(0x77), SDE);
        CHECK(named(claims, "release.signature").pass);
        CHECK_FALSE(named(claims, "release.measurement").pass);
        CHECK(named(claims, "release.measurement").found == std::string(96, '7'));
        CHECK(contains(named(claims, "release.measurement").detail, "is not a shape of release "));
        CHECK(contains(named(claims, "release.measurement").expected, "one of the 2 MEASUREMENTs of release "));
    }
    SUBCASE("not_after itself is past")
    {
        auto claims = release_claims(input(statement()), report_of(0x11), NOT_AFTER);
        CHECK(named(claims, "release.signature").pass);
        CHECK(named(claims, "release.measurement").pass);
        CHECK_FALSE(named(claims, "release.fresh").pass);
        CHECK(contains(named(claims, "release.fresh").detail, "expired: refusing"));
        CHECK(release_claims(input(statement()), report_of(0x11), NOT_AFTER - 1)[1].pass);
    }
    SUBCASE("another key: nothing else is judged")
    {
        auto other = release::SigningKey::generate(release::KeyKind::Ed25519).release_value();
        auto claims = release_claims(input(statement(), other.public_key()), report_of(0x11), SDE);
        for (const Claim& c : claims)
            CHECK_FALSE(c.pass);
        CHECK(named(claims, "release.signature").found == "not verified");
        CHECK(contains(named(claims, "release.signature").detail, "release.sigstore.json: "));
        CHECK(named(claims, "release.measurement").found == "not checked");
    }
    SUBCASE("a payload changed after signing")
    {
        ReleaseInput in = input(statement());
        size_t at = in.bundle.find("\"payload\":\"") + 20;
        in.bundle[at] = in.bundle[at] == 'A' ? 'B' : 'A';
        CHECK_FALSE(release_claims(in, report_of(0x11), SDE)[0].pass);
    }
    SUBCASE("a release naming its init-data: HOST_DATA must be that digest")
    {
        std::array<uint8_t, 32> init_data{};
        init_data.fill(0xab);
        CHECK(release_claims(input(statement(init_data)), report_of(0x11, 0xab), SDE)[2].pass);
        auto claims = release_claims(input(statement(init_data)), report_of(0x11, 0xcd), SDE);
        CHECK_FALSE(named(claims, "release.measurement").pass);
        CHECK(contains(named(claims, "release.measurement").detail, "is for HOST_DATA " + to_hex(init_data)));
    }
    SUBCASE("no report")
    {
        auto claims = release_claims(input(statement()), std::nullopt, SDE);
        CHECK(named(claims, "release.signature").pass);
        CHECK_FALSE(named(claims, "release.measurement").pass);
        CHECK(named(claims, "release.measurement").found == "not checked");
    }
}

TEST_CASE("verify --release: the flags")
{
    std::string dir = std::filesystem::temp_directory_path() / ("cvm_verify_release_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::string pub = key().public_key().pem();
    REQUIRE(write_file_atomic(dir + "/release.pub", {reinterpret_cast<const uint8_t*>(pub.data()), pub.size()}).ok());
    std::string bundle = release::make_bundle(statement(), key()).value();
    REQUIRE(write_file_atomic(dir + "/b.json", {reinterpret_cast<const uint8_t*>(bundle.data()), bundle.size()}).ok());

    CHECK_FALSE(input_of({}).value());
    auto ok = input_of({"--release", dir + "/b.json", "--release-key", dir + "/release.pub"});
    REQUIRE_MESSAGE(ok.ok(), std::string(ok.ok() ? "" : ok.error().message()));
    REQUIRE(ok.value());
    CHECK(ok.value()->bundle == bundle);
    CHECK_FALSE(ok.value()->require_tlog);

    auto message = [&](std::vector<std::string> argv) {
        auto r = input_of(std::move(argv));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() != Errc::Policy);
        return std::string(r.error().message());
    };
    CHECK(contains(message({"--release", dir + "/b.json"}), "needs --release-key PUB"));
    CHECK(contains(message({"--release-key", dir + "/release.pub"}), "--release-key goes with --release BUNDLE"));
    CHECK(contains(message({"--require-tlog"}), "--require-tlog goes with --release"));
    CHECK(contains(message({"--release", dir + "/b.json", "--release-key", dir + "/release.pub", "--require-tlog"}),
                   "needs --release-trusted-root"));
    CHECK(contains(message({"--release", dir + "/b.json", "--release-key", dir + "/b.json"}), "--release-key"));
    CHECK(contains(message({"--release", dir + "/b.json", "--release-key", dir + "/release.pub",
                            "--release-trusted-root", dir + "/b.json"}),
                   "--release-trusted-root"));
    CHECK_FALSE(input_of({"--release", dir + "/none.json", "--release-key", dir + "/release.pub"}).ok());
    std::filesystem::remove_all(dir);
}
