// The simulated provider from fw_cfg blobs, and choose_provider's decisions: the simulator only
// and always when cvminit.simulate=1 asks for it.
#include <doctest.h>

#include <filesystem>

#include "providers/report_provider.h"
#include "providers/report_provider_sim.h"
#include "sim/fw_cfg.h"
#include "sim_fixture.h"
#include "snp/cert_table.h"

using namespace cvm;

namespace {

// A guest's fw_cfg view (<root>/opt/cvminit/sim/<blob>/raw) of the host's write_fw_cfg_files.
void write_fw_cfg(const sim::Platform& platform, const std::string& guest_root)
{
    test::TempDir host;
    sim::LaunchState launch;
    launch.measurement.fill(0x6D);
    auto written = sim::write_fw_cfg_files(platform, launch, host.path());
    REQUIRE_MESSAGE(written.ok(), written.error().message());
    for (const char* blob : {"key", "certs", "launch"})
        test::write_bytes(guest_root + "/opt/cvminit/sim/" + blob + "/raw", test::read_bytes(host / blob));
}

struct Paths {
    test::TempDir dir;
    agent::ProviderPaths paths;
    Paths()
    {
        paths.configfs_root = dir / "tsm/report";
        paths.sev_guest_device = dir / "dev/sev-guest";
        paths.fw_cfg_root = dir / "fw_cfg/by_name";
    }
    void with_configfs() { std::filesystem::create_directories(paths.configfs_root); }
    void with_device() { test::write_bytes(paths.sev_guest_device, Bytes{}); }
    void with_fw_cfg() { write_fw_cfg(test::genoa(), paths.fw_cfg_root); }
};

std::string chosen(const Paths& p, bool simulate)
{
    auto provider = agent::choose_provider(p.paths, simulate);
    REQUIRE_MESSAGE(provider.ok(), provider.error().message());
    return provider.value()->name();
}

}  // namespace

TEST_CASE("simulated provider: reports from the fw_cfg blobs verify against the simulated ARK")
{
    test::TempDir root;
    write_fw_cfg(test::genoa(), root.path());
    auto provider = agent::SimulatedProvider::load(root.path());
    REQUIRE_MESSAGE(provider.ok(), provider.error().message());
    CHECK(std::string(provider.value()->name()) == "simulated");
    auto got = provider.value()->get_report(test::report_data(0x42));
    REQUIRE_MESSAGE(got.ok(), got.error().message());
    CHECK(got->provider == "simulated");
    CHECK(snp::parse_cert_table(got->cert_table).value().size() == 3);
    auto v =
        test::verifier_trusting({&test::genoa()})->verify(test::evidence(got->report, got->cert_table, test::genoa()));
    CHECK_MESSAGE(v.pass(), test::dump(v));
    CHECK(v.report->report_data == test::report_data(0x42));
    CHECK(v.report->vmpl == 0);

    // AMD's roots alone do not accept it: simulated evidence is never mistaken for real.
    auto amd_only = test::verifier_trusting({})->verify(test::evidence(got->report, got->cert_table));
    CHECK_FALSE(amd_only.pass());
}

TEST_CASE("simulated provider: a missing blob is named")
{
    test::TempDir root;
    write_fw_cfg(test::genoa(), root.path());
    std::filesystem::remove(root / "opt/cvminit/sim/certs/raw");
    auto provider = agent::SimulatedProvider::load(root.path());
    REQUIRE_FALSE(provider.ok());
    std::string e(provider.error().message());
    CHECK_MESSAGE(e.find("simulated PSP from " + root.path()) == 0, e);
    CHECK_MESSAGE(e.find("fw_cfg opt/cvminit/sim/certs") != std::string::npos, e);
}

TEST_CASE("choose_provider: configfs-tsm, then /dev/sev-guest, never the simulator unasked")
{
    Paths all;
    all.with_configfs();
    all.with_device();
    all.with_fw_cfg();
    CHECK(chosen(all, false) == "configfs-tsm");

    Paths device;
    device.with_device();
    device.with_fw_cfg();
    CHECK(chosen(device, false) == "sev-guest");

    Paths none;
    none.with_fw_cfg();  // simulator blobs present, but simulation not asked for
    auto refused = agent::choose_provider(none.paths, false);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == Errc::Unavailable);
    std::string e(refused.error().message());
    CHECK_MESSAGE(e.find(none.paths.configfs_root + " (configfs-tsm)") != std::string::npos, e);
    CHECK_MESSAGE(e.find(none.paths.sev_guest_device) != std::string::npos, e);
    CHECK_MESSAGE(e.find("cvminit.simulate=1") != std::string::npos, e);
}

TEST_CASE("choose_provider: cvminit.simulate=1 means the simulator, even on hardware")
{
    Paths all;
    all.with_configfs();
    all.with_device();
    all.with_fw_cfg();
    CHECK(chosen(all, true) == "simulated");

    Paths no_blobs;  // asked for, but the host did not pass the platform: an error, no fallback
    no_blobs.with_configfs();
    std::filesystem::create_directories(no_blobs.paths.fw_cfg_root);
    auto missing = agent::choose_provider(no_blobs.paths, true);
    REQUIRE_FALSE(missing.ok());
    CHECK_MESSAGE(std::string(missing.error().message()).find("cvm launch --simulate") != std::string::npos,
                  missing.error().message());
}

TEST_CASE("simulated provider: missing blobs are explained by their real cause")
{
    Paths no_module;  // no /sys/firmware/qemu_fw_cfg: the module is not loaded
    auto got = agent::SimulatedProvider::load(no_module.paths.fw_cfg_root);
    REQUIRE_FALSE(got.ok());
    std::string e(got.error().message());
    CHECK_MESSAGE(e.find(no_module.dir / "fw_cfg" + " does not exist: the qemu_fw_cfg module is not loaded") !=
                      std::string::npos,
                  e);
    CHECK_MESSAGE(e.find("`cvm initramfs --platform sim` or `--module qemu_fw_cfg`") != std::string::npos, e);

    Paths no_platform;  // the driver is there, but QEMU was not given the simulated platform
    std::filesystem::create_directories(no_platform.paths.fw_cfg_root + "/etc");
    got = agent::SimulatedProvider::load(no_platform.paths.fw_cfg_root);
    REQUIRE_FALSE(got.ok());
    e = got.error().message();
    CHECK_MESSAGE(e.find("no " + no_platform.paths.fw_cfg_root + "/opt/cvminit/sim") != std::string::npos, e);
    CHECK_MESSAGE(e.find("the host did not pass the simulated platform (launch with `cvm launch --simulate`)") !=
                      std::string::npos,
                  e);
    CHECK(e.find("qemu_fw_cfg module") == std::string::npos);

    Paths one_blob;  // the platform is there but a blob is not: that blob is named
    one_blob.with_fw_cfg();
    std::filesystem::remove(one_blob.paths.fw_cfg_root + "/opt/cvminit/sim/launch/raw");
    got = agent::SimulatedProvider::load(one_blob.paths.fw_cfg_root);
    REQUIRE_FALSE(got.ok());
    CHECK_MESSAGE(std::string(got.error().message()).find("fw_cfg opt/cvminit/sim/launch") != std::string::npos,
                  got.error().message());
}

TEST_CASE("choose_provider: a device node that cannot be opened is an error, not a fallback")
{
    Paths p;
    std::filesystem::create_directories(p.paths.sev_guest_device);  // a directory: open(O_RDWR) fails
    p.with_fw_cfg();
    auto got = agent::choose_provider(p.paths, false);
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().errno_value() == EISDIR);
}
