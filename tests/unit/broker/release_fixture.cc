#include "release_fixture.h"

#include <doctest.h>

#include <filesystem>

#include "attest_harness.h"
#include "release/bundle.h"

namespace cvm::test {

std::vector<release::ShapeMeasurement> matrix_shapes()
{
    std::vector<release::ShapeMeasurement> out;
    uint8_t fill = 0x11;
    for (const char* type : {"EPYC-Milan", "EPYC-Genoa"}) {
        for (uint32_t vcpus : {1u, 2u}) {
            release::ShapeMeasurement s;
            s.shape = {vcpus, type, "QEMU"};
            s.measurement.fill(fill++);
            out.push_back(s);
        }
    }
    return out;
}

release::Statement release_statement(std::vector<release::ShapeMeasurement> shapes, int64_t source_date_epoch,
                                     std::optional<int64_t> not_after, std::optional<std::array<uint8_t, 32>> host_data)
{
    release::Statement s;
    uint8_t fill = 0xf0;
    for (const char* name : {"firmware", "kernel", "initrd"}) {
        release::Subject subject;
        subject.name = name;
        subject.sha256.fill(fill++);
        s.subjects.push_back(subject);
    }
    s.predicate.tool = "cvm 0.1.0";
    s.predicate.source_date_epoch = source_date_epoch;
    s.predicate.not_after = not_after;
    s.predicate.policy = 0x30000;
    s.predicate.guest_features = 0x1;
    s.predicate.cmdline = "console=ttyS0";
    s.predicate.host_data = host_data;
    s.predicate.shapes = std::move(shapes);
    return s;
}

sim::LaunchState launch_of(const release::Measurement& measurement, const std::array<uint8_t, 32>& host_data)
{
    sim::LaunchState launch = good_launch();
    launch.measurement = measurement;
    launch.host_data = host_data;
    return launch;
}

const release::SigningKey& release_key()
{
    static const release::SigningKey key = release::SigningKey::generate(release::KeyKind::Ed25519).release_value();
    return key;
}

const release::SigningKey& other_release_key()
{
    static const release::SigningKey key = release::SigningKey::generate(release::KeyKind::EcdsaP256).release_value();
    return key;
}

void write_bundle(const BrokerFiles& files, const std::string& name, const release::Statement& statement,
                  const release::SigningKey& key)
{
    std::filesystem::create_directories(files.dir() + "/releases");
    auto bundle = release::make_bundle(statement, key);
    REQUIRE_MESSAGE(bundle.ok(), std::string(bundle.ok() ? "" : bundle.error().message()));
    files.write("releases/" + name, bundle.value());
}

std::string release_config_text(const BrokerFiles& files, const std::string& entry_lines,
                                const std::string& secret_lines, const std::string& policy_lines)
{
    std::filesystem::create_directories(files.dir() + "/releases");
    files.write("release.pub", release_key().public_key().pem());
    return "listen = \"127.0.0.1:0\"\nsigning_key = \"broker.key\"\nnonce_key = \"nonce.key\"\n" +
           simulated_top(files) + "\n[policy]\nallow_simulated = true\n" + policy_lines +
           "\n[[policy.release]]\nname = \"prod\"\nkey = \"release.pub\"\n" + entry_lines +
           "\n[releases]\ndir = \"releases\"\n"
           "\n[[secret]]\nname = \"db\"\nvalue = \"s3cret-db\"\nreleases = [\"prod\"]\n" +
           secret_lines;
}

}  // namespace cvm::test
