// Stage initdata against a fake of the qemu_fw_cfg sysfs tree (tests/fakes/fake_fw_cfg.h) and the
// simulated PSP, whose launch state (and so HOST_DATA) comes through the same fw_cfg tree as in a
// simulated VM: the document is used only when its digest is the report's HOST_DATA, and each
// way to fail ends in its own message.
#include <doctest.h>

#include <map>
#include <string>

#include "fake_fw_cfg.h"
#include "initdata/initdata.h"
#include "kernel-cmdline/cmdline.h"
#include "sim/fw_cfg.h"
#include "sim_fixture.h"
#include "stages.h"

using namespace cvm;

namespace {

// RFC 8032 §7.1 TEST 1's and TEST 2's public keys, base64.
constexpr const char* KEY1 = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
constexpr const char* KEY2 = "PUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=";

std::string document(const std::string& entry, initdata::Algorithm algorithm = initdata::Algorithm::Sha384)
{
    auto text = initdata::compose(algorithm, {{"cvminit.toml", entry}, {"aa.toml", "# for Trustee's agent\n"}});
    REQUIRE_MESSAGE(text.ok(), text.error().message());
    return text.value();
}

const std::string EU = "broker = \"http://kb-eu.example:8080\"\nbroker_key = \"" + std::string(KEY1) +
                       "\"\nresources = [\"db\"]\n[workload.env]\nREGION = \"eu\"\n";
const std::string US = "broker = \"https://kb-us.example\"\nbroker_key = \"" + std::string(KEY2) +
                       "\"\ntransport = \"ratls\"\nreattest = 60\n";

initdata::HostData host_data_of(const std::string& text)
{
    auto parsed = initdata::parse(text);
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().message());
    return initdata::host_data(parsed.value());
}

Bytes bytes(std::string_view s)
{
    return Bytes(s.begin(), s.end());
}

// A guest: the measured configuration as stage config leaves it, and a fw_cfg tree holding the
// simulated platform for a launch with `host_data`.
struct Guest {
    test::TempDir root;
    test::FakeFwCfg fw_cfg{root.path()};
    agent::Context ctx;

    explicit Guest(const std::string& words = "cvminit.initdata=fw_cfg cvminit.simulate=1")
    {
        ctx.root = root.path();
        auto cmdline = cmdline::parse_cmdline(words);
        REQUIRE_MESSAGE(cmdline.ok(), cmdline.error().message());
        cmdline::AgentFileConfig file;
        file.command = {"/bin/app"};
        auto measured = cmdline::merge_config(cmdline.value(), file);
        REQUIRE_MESSAGE(measured.ok(), measured.error().message());
        agent::apply_config(ctx, measured.value());
        ctx.measured_cmdline = cmdline.value();
        ctx.measured_file = file;
    }

    // The qemu_fw_cfg module loaded, QEMU's device found, the simulated platform passed in.
    void boot_on_qemu(const initdata::HostData& host_data)
    {
        fw_cfg.load_driver();
        fw_cfg.probe();
        test::TempDir host;
        sim::LaunchState launch;
        launch.measurement.fill(0x6D);
        launch.host_data = host_data;
        auto written = sim::write_fw_cfg_files(test::genoa(), launch, host.path());
        REQUIRE_MESSAGE(written.ok(), written.error().message());
        for (const char* blob : {"key", "certs", "launch"})
            REQUIRE(fw_cfg.add_file(std::string("opt/cvminit/sim/") + blob, test::read_bytes(host / blob)));
    }

    void pass(const std::string& text) { REQUIRE(fw_cfg.add_file(initdata::FW_CFG_NAME, bytes(text))); }

    std::string fails(std::string_view prefix)
    {
        auto r = agent::stage_initdata(ctx);
        REQUIRE(!r.ok());
        std::string message(r.error().message());
        INFO(message);
        CHECK(message.rfind(prefix, 0) == 0);
        CHECK(ctx.broker_url.empty());  // nothing of the document was used
        CHECK(ctx.fail_hint != nullptr);
        return message;
    }
};

}  // namespace

TEST_CASE("initdata: one image, two documents, two brokers")
{
    std::string eu = document(EU);
    Guest a;
    a.boot_on_qemu(host_data_of(eu));
    a.pass(eu);
    auto summary = agent::stage_initdata(a.ctx);
    REQUIRE_MESSAGE(summary.ok(), summary.error().message());
    CHECK(summary->find("HOST_DATA " + to_hex(host_data_of(eu))) != std::string::npos);
    CHECK(summary->find("report from simulated") != std::string::npos);
    CHECK(a.ctx.broker_url == "http://kb-eu.example:8080");
    CHECK(proto::ed25519_public_b64(a.ctx.broker_key) == KEY1);
    CHECK(a.ctx.resources == std::vector<std::string>{"db"});
    CHECK(a.ctx.workload_env == std::vector<std::pair<std::string, std::string>>{{"REGION", "eu"}});
    CHECK(a.ctx.transport == cmdline::Transport::Cvmkb);
    // Stage attest asks the same provider next.
    REQUIRE(a.ctx.provider);
    const agent::ReportProvider* provider = a.ctx.provider.get();
    REQUIRE(agent::open_provider(a.ctx).ok());
    CHECK(a.ctx.provider.get() == provider);

    for (auto algorithm : {initdata::Algorithm::Sha256, initdata::Algorithm::Sha512}) {
        std::string us = document(US, algorithm);
        Guest b;
        b.boot_on_qemu(host_data_of(us));
        b.pass(us);
        auto other = agent::stage_initdata(b.ctx);
        REQUIRE_MESSAGE(other.ok(), other.error().message());
        CHECK(b.ctx.broker_url == "https://kb-us.example");
        CHECK(proto::ed25519_public_b64(b.ctx.broker_key) == KEY2);
        CHECK(b.ctx.transport == cmdline::Transport::Ratls);
        CHECK(b.ctx.reattest_seconds == 60);
        CHECK(b.ctx.resources.empty());
    }
}

TEST_CASE("initdata: a tampered document or another document's HOST_DATA is refused, naming both")
{
    std::string eu = document(EU);
    std::string tampered = eu;
    tampered.replace(tampered.find("kb-eu"), 5, "kb-ev");
    Guest a;
    a.boot_on_qemu(host_data_of(eu));
    a.pass(tampered);
    std::string message = a.fails("init-data HOST_DATA mismatch: the report has " + to_hex(host_data_of(eu)));
    CHECK(message.find("the document's sha384 gives " + to_hex(host_data_of(tampered)) + "; refusing") !=
          std::string::npos);

    Guest b;
    b.boot_on_qemu(host_data_of(document(US)));
    b.pass(eu);
    b.fails("init-data HOST_DATA mismatch");

    Guest zero;  // launched without host-data at all
    zero.boot_on_qemu(initdata::HostData{});
    zero.pass(eu);
    CHECK(zero.fails("init-data HOST_DATA mismatch").find(std::string(64, '0')) != std::string::npos);
}

TEST_CASE("initdata: a missing document, as the driver can leave it missing, asks for no report")
{
    std::string eu = document(EU);
    Guest no_driver;
    CHECK(no_driver.fails("init-data document missing").find("qemu_fw_cfg module is not loaded") != std::string::npos);
    CHECK(std::string(no_driver.ctx.fail_hint).find("qemu_fw_cfg") != std::string::npos);
    CHECK(!no_driver.ctx.provider);

    Guest no_device;
    no_device.fw_cfg.load_driver();
    no_device.fails("init-data document missing");
    CHECK(std::string(no_device.ctx.fail_hint).find("fw_cfg device") != std::string::npos);

    Guest not_passed;
    not_passed.boot_on_qemu(host_data_of(eu));
    CHECK(not_passed.fails("init-data document missing").find("opt/cvminit/initdata/raw") != std::string::npos);
    CHECK(std::string(not_passed.ctx.fail_hint).find("launch.toml initdata") != std::string::npos);
    CHECK(!not_passed.ctx.provider);

    // A file below our name makes it a directory: the document's link collides and is left out.
    Guest collision;
    collision.boot_on_qemu(host_data_of(eu));
    REQUIRE(collision.fw_cfg.add_file(std::string(initdata::FW_CFG_NAME) + "/x", bytes("x")));
    CHECK(!collision.fw_cfg.add_file(initdata::FW_CFG_NAME, bytes(eu)));
    collision.fails("init-data document missing");
}

TEST_CASE("initdata: unreadable and invalid documents")
{
    std::string eu = document(EU);
    Guest large;
    large.boot_on_qemu(host_data_of(eu));
    large.pass(std::string(initdata::MAX_INITDATA_SIZE + 1, '#'));
    CHECK(large.fails("init-data document unreadable").find("more than the 65536 allowed") != std::string::npos);
    CHECK(!large.ctx.provider);

    Guest lying;
    lying.boot_on_qemu(host_data_of(eu));
    lying.pass(eu);
    lying.fw_cfg.set_size_attribute(initdata::FW_CFG_NAME, std::to_string(eu.size() - 1) + "\n");
    lying.fails("init-data document unreadable");
    lying.fw_cfg.set_size_attribute(initdata::FW_CFG_NAME, "12x\n");
    lying.fails("init-data document unreadable");

    for (std::string text :
         {std::string("not toml ="), std::string("algorithm = \"md5\"\nversion = \"0.1.0\"\n[data]\n"), std::string(""),
          eu.substr(0, eu.size() / 2)}) {
        Guest invalid;
        invalid.boot_on_qemu(host_data_of(eu));
        if (!text.empty())
            invalid.pass(text);
        else
            REQUIRE(invalid.fw_cfg.add_file(initdata::FW_CFG_NAME, Bytes{}));
        invalid.fails("init-data document invalid");
        CHECK(!invalid.ctx.provider);
    }
}

TEST_CASE("initdata: the document's settings after the check: refused when measured-only or given twice")
{
    for (std::string entry : {EU + "simulate = false\n", EU + "[agent_api]\nenabled = false\n",
                              std::string("broker = \"http://kb\"\n"), EU + "[workload.env.LD_PRELOAD]\n"}) {
        std::string text = document(entry);
        Guest g;
        g.boot_on_qemu(host_data_of(text));
        g.pass(text);
        g.fails("init-data settings refused");
    }
    std::string eu = document(EU);
    Guest twice("cvminit.initdata=fw_cfg cvminit.simulate=1 cvminit.broker=http://measured");
    twice.boot_on_qemu(host_data_of(eu));
    twice.pass(eu);
    auto r = agent::stage_initdata(twice.ctx);
    REQUIRE(!r.ok());
    CHECK(std::string(r.error().message()).find("init-data settings refused: broker: set both") == 0);
    CHECK(twice.ctx.broker_url == "http://measured");

    // A document without the agent's entry sets nothing; the measured broker stays.
    auto bare = initdata::compose(initdata::Algorithm::Sha384, {{"aa.toml", ""}});
    REQUIRE(bare.ok());
    Guest measured("cvminit.initdata=fw_cfg cvminit.simulate=1 cvminit.broker=http://measured cvminit.broker_key=" +
                   std::string(KEY1));
    measured.boot_on_qemu(host_data_of(bare.value()));
    measured.pass(bare.value());
    auto ok = agent::stage_initdata(measured.ctx);
    REQUIRE_MESSAGE(ok.ok(), ok.error().message());
    CHECK(ok->find("no cvminit.toml entry") != std::string::npos);
    CHECK(measured.ctx.broker_url == "http://measured");
}
