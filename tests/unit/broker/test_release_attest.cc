// A broker configured only with a release key, end to end over loopback (issue 16's acceptance):
// it releases to every shape of the release's matrix, refuses a MEASUREMENT outside it, and
// refuses once the release is past its not_after, judged per request; per-resource releases and
// HOST_DATA; heartbeats judged alike; a reload picks up a new release.
#include <doctest.h>

#include <string>

#include "attest_harness.h"
#include "base/file.h"
#include "client/heartbeat.h"
#include "config.h"
#include "release_fixture.h"
#include "service.h"

using namespace cvm;
using namespace cvm::test;

namespace {

constexpr int64_t T0 = 1'800'000'000;  // FakeClock's start

bool contains(std::string_view haystack, std::string_view needle)
{
    return haystack.find(needle) != std::string_view::npos;
}

bool log_has(const BrokerHarness& h, const std::string& needle)
{
    for (const std::string& line : h.log_lines()) {
        if (contains(line, needle))
            return true;
    }
    return false;
}

proto::ErrorBody refused(BrokerHarness& h, std::vector<std::string> resources, const sim::LaunchState& launch)
{
    std::optional<proto::ErrorBody> refusal;
    auto r = h.attest(std::move(resources), launch, 0, &refusal);
    REQUIRE_FALSE(r.ok());
    REQUIRE(refusal);
    return *refusal;
}

std::string secret_of(const Result<proto::Release>& r)
{
    REQUIRE_MESSAGE(r.ok(), std::string(r.ok() ? "" : r.error().message()));
    REQUIRE(r->secrets.size() == 1);
    return {reinterpret_cast<const char*>(r->secrets[0].value.expose().data()), r->secrets[0].value.size()};
}

release::Measurement outside()
{
    release::Measurement m;
    m.fill(0x77);
    return m;
}

}  // namespace

TEST_CASE("release attest: every shape of the matrix is released to, a MEASUREMENT outside it is not")
{
    BrokerHarness h([](const BrokerFiles& files) {
        write_bundle(files, "v1.sigstore.json", release_statement(matrix_shapes(), T0 - 3600, T0 + 3600));
        return release_config_text(files);
    });
    for (const release::ShapeMeasurement& s : matrix_shapes()) {
        INFO(s.shape.vcpus << " " << s.shape.vcpu_type);
        CHECK(secret_of(h.attest({"db"}, launch_of(s.measurement))) == "s3cret-db");
    }
    proto::ErrorBody e = refused(h, {"db"}, launch_of(outside()));
    CHECK(e.code == proto::ErrorCode::MeasurementMismatch);
    CHECK(e.claim == "policy.measurement");
    CHECK(e.got == std::string(96, '7'));
    CHECK_MESSAGE(contains(e.detail, "MEASUREMENT is in no accepted release (1 loaded)"), e.detail);
    REQUIRE(e.expected.size() == 1);
    CHECK_MESSAGE(contains(e.expected[0], "a MEASUREMENT of a fresh release: release "), e.expected[0]);
    CHECK(log_has(h, "attest refused code=MEASUREMENT_MISMATCH claim=policy.measurement"));
    CHECK(log_has(h, "measurement=" + std::string(96, '7')));
}

TEST_CASE("release attest: after the release's not_after it is refused, naming the release")
{
    BrokerHarness h([](const BrokerFiles& files) {
        write_bundle(files, "v1.sigstore.json", release_statement(matrix_shapes(), T0 - 3600, T0 + 60));
        return release_config_text(files);
    });
    release::Measurement m = matrix_shapes()[3].measurement;
    CHECK(secret_of(h.attest({"db"}, launch_of(m))) == "s3cret-db");
    h.clock.advance(59);
    CHECK(secret_of(h.attest({"db"}, launch_of(m))) == "s3cret-db");
    h.clock.advance(1);  // not_after itself is past, as verify_bundle has it
    proto::ErrorBody e = refused(h, {"db"}, launch_of(m));
    CHECK(e.code == proto::ErrorCode::MeasurementMismatch);
    CHECK(e.claim == "policy.measurement");
    CHECK_MESSAGE(contains(e.detail, "which expired: refusing"), e.detail);
    CHECK_MESSAGE(contains(e.detail, "(not_after 2027-01-15T08:01:00Z)"), e.detail);  // T0 + 60
    CHECK_MESSAGE(contains(e.expected.at(0), "EXPIRED"), e.expected.at(0));
}

TEST_CASE("release attest: the entry's not_after and max_age retire releases without touching them")
{
    SUBCASE("not_after of [[policy.release]]")
    {
        BrokerHarness h([](const BrokerFiles& files) {
            write_bundle(files, "v1.sigstore.json", release_statement(matrix_shapes(), T0 - 3600, std::nullopt));
            return release_config_text(files, "not_after = " + std::to_string(T0 + 10) + "\n");
        });
        CHECK(secret_of(h.attest({"db"}, launch_of(matrix_shapes()[0].measurement))) == "s3cret-db");
        h.clock.advance(10);
        CHECK(refused(h, {"db"}, launch_of(matrix_shapes()[0].measurement)).code ==
              proto::ErrorCode::MeasurementMismatch);
    }
    SUBCASE("max_age from source_date_epoch: an old release is refused, a newer one of the same key accepted")
    {
        BrokerHarness h([](const BrokerFiles& files) {
            auto old_shapes = matrix_shapes();
            old_shapes.resize(1);
            write_bundle(files, "old.sigstore.json", release_statement(old_shapes, T0 - 200, std::nullopt));
            auto new_shapes = matrix_shapes();
            new_shapes.erase(new_shapes.begin());
            write_bundle(files, "new.sigstore.json", release_statement(new_shapes, T0 - 50, std::nullopt));
            return release_config_text(files, "max_age = 100\n");
        });
        proto::ErrorBody e = refused(h, {"db"}, launch_of(matrix_shapes()[0].measurement));
        CHECK_MESSAGE(contains(e.detail, "which expired"), e.detail);
        CHECK(secret_of(h.attest({"db"}, launch_of(matrix_shapes()[1].measurement))) == "s3cret-db");
    }
}

TEST_CASE("release attest: per-resource releases and HOST_DATA")
{
    std::array<uint8_t, 32> deployment_a{}, deployment_b{};
    deployment_a.fill(0xa1);
    deployment_b.fill(0xb2);
    BrokerHarness h([&](const BrokerFiles& files) {
        write_bundle(files, "v1.sigstore.json", release_statement(matrix_shapes(), T0, std::nullopt));
        files.write("staging.pub", other_release_key().public_key().pem());
        auto staging_shapes = matrix_shapes();
        for (auto& s : staging_shapes)
            s.measurement[0] = 0x99;
        write_bundle(files, "staging.sigstore.json", release_statement(staging_shapes, T0, std::nullopt),
                     other_release_key());
        std::string text = release_config_text(files, "", "host_data = [\"" + to_hex(deployment_a) + "\"]\n");
        // A second entry, after [[policy.release]] "prod": TOML appends it to the same array.
        text.replace(text.find("\n[releases]"), 0, "\n[[policy.release]]\nname = \"staging\"\nkey = \"staging.pub\"\n");
        return text + "\n[[secret]]\nname = \"canary\"\nvalue = \"c\"\nreleases = [\"staging\"]\n";
    });
    release::Measurement prod = matrix_shapes()[0].measurement;
    release::Measurement staging = prod;
    staging[0] = 0x99;
    CHECK(secret_of(h.attest({"db"}, launch_of(prod, deployment_a))) == "s3cret-db");

    proto::ErrorBody e = refused(h, {"db"}, launch_of(prod, deployment_b));
    CHECK(e.code == proto::ErrorCode::ResourceNotAllowed);
    CHECK(e.claim == "host_data");
    CHECK(e.got == to_hex(deployment_b));
    CHECK(e.expected == std::vector<std::string>{to_hex(deployment_a)});

    // The staging release passes the policy, but "db" is for prod's releases only.
    e = refused(h, {"db"}, launch_of(staging, deployment_a));
    CHECK(e.code == proto::ErrorCode::ResourceNotAllowed);
    CHECK_MESSAGE(contains(e.detail, "in no fresh release of prod"), e.detail);
    CHECK(secret_of(h.attest({"canary"}, launch_of(staging))) == "c");
    CHECK(refused(h, {"canary"}, launch_of(prod)).code == proto::ErrorCode::ResourceNotAllowed);
}

TEST_CASE("release attest: a release naming its init-data vouches only for that HOST_DATA")
{
    std::array<uint8_t, 32> init_data{};
    init_data.fill(0x5d);
    BrokerHarness h([&](const BrokerFiles& files) {
        write_bundle(files, "v1.sigstore.json", release_statement(matrix_shapes(), T0, std::nullopt, init_data));
        return release_config_text(files);
    });
    release::Measurement m = matrix_shapes()[2].measurement;
    CHECK(secret_of(h.attest({"db"}, launch_of(m, init_data))) == "s3cret-db");
    proto::ErrorBody e = refused(h, {"db"}, launch_of(m));
    CHECK(e.code == proto::ErrorCode::MeasurementMismatch);
    CHECK_MESSAGE(contains(e.detail, "only with HOST_DATA " + to_hex(init_data)), e.detail);
}

TEST_CASE("release attest: policy.measurements and releases together")
{
    BrokerHarness h([](const BrokerFiles& files) {
        write_bundle(files, "v1.sigstore.json", release_statement(matrix_shapes(), T0, std::nullopt));
        return release_config_text(files, "", "measurements = [\"" + GOOD_MEASUREMENT + "\"]\n",
                                   "measurements = [\"" + GOOD_MEASUREMENT + "\"]\n");
    });
    CHECK(secret_of(h.attest({"db"}, good_launch())) == "s3cret-db");
    CHECK(secret_of(h.attest({"db"}, launch_of(matrix_shapes()[1].measurement))) == "s3cret-db");
    proto::ErrorBody e = refused(h, {"db"}, launch_of(outside()));
    REQUIRE(e.expected.size() == 2);
    CHECK(e.expected[0] == GOOD_MEASUREMENT);
    CHECK(contains(e.expected[1], "a MEASUREMENT of a fresh release"));
}

TEST_CASE("release attest: a heartbeat from an expired release is refused")
{
    BrokerHarness h([](const BrokerFiles& files) {
        write_bundle(files, "v1.sigstore.json", release_statement(matrix_shapes(), T0, T0 + 30));
        return release_config_text(files);
    });
    auto psp =
        sim::SimulatedPsp::create(simulated_platform(), launch_of(matrix_shapes()[0].measurement)).release_value();
    client::HeartbeatOptions o;
    o.broker_url = h.url();
    o.broker_key = h.broker->public_key();
    o.interval = 300;
    auto source = [&psp](const proto::ReportData& rd) -> Result<client::HeartbeatEvidence> {
        client::HeartbeatEvidence e;
        e.report = TRY(psp.get_report(rd, 0));
        e.certs = certs_of_table(psp.cert_table());
        return e;
    };
    auto first = client::heartbeat(o, source);
    REQUIRE_MESSAGE(first.ok(), std::string(first.ok() ? "" : first.error().message()));
    CHECK(first->accepted);
    h.clock.advance(30);
    auto second = client::heartbeat(o, source);
    REQUIRE(second.ok());
    CHECK_FALSE(second->accepted);
    REQUIRE(second->refusal);
    CHECK(second->refusal->code == proto::ErrorCode::MeasurementMismatch);
    CHECK(contains(second->refusal->detail, "which expired"));
}

TEST_CASE("release attest: a reload loads the releases added since, and a bad one keeps the old generation")
{
    BrokerFiles files;
    FakeClock clock;
    broker::MemoryStore store(&clock);
    files.write("broker.toml", release_config_text(files));
    auto config = broker::load_broker_config(files.dir() + "/broker.toml");
    REQUIRE_MESSAGE(config.ok(), std::string(config.ok() ? "" : config.error().message()));
    CHECK(config->releases.releases().empty());
    broker::ServiceOptions options;
    options.store = &store;
    options.clock = &clock;
    std::vector<std::string> log;
    options.log = [&log](const std::string& line) { log.push_back(line); };
    options.stale_scan_ms = 0;
    auto service = broker::Service::create(files.dir() + "/broker.toml", config.release_value(), std::move(options));
    REQUIRE(service.ok());

    write_bundle(files, "v2.sigstore.json", release_statement(matrix_shapes(), T0, std::nullopt));
    auto reloaded = service.value()->reload();
    REQUIRE_MESSAGE(reloaded.ok(), std::string(reloaded.ok() ? "" : reloaded.error().message()));
    CHECK(reloaded.value() == 2);
    bool named = false;
    for (const std::string& line : log)
        named = named || (contains(line, "configuration generation 2") && contains(line, "policy.release 'prod'") &&
                          contains(line, "4 shapes"));
    CHECK(named);

    write_bundle(files, "rogue.sigstore.json", release_statement(matrix_shapes(), T0, std::nullopt),
                 other_release_key());
    auto failed = service.value()->reload();
    REQUIRE_FALSE(failed.ok());
    CHECK(contains(failed.error().message(), "rogue.sigstore.json"));
    CHECK(service.value()->generation() == 2);
}
