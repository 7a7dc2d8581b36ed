// The cvminit layout: what goes where, and the inputs build_layout() refuses.
#include <doctest.h>

#include <string>

#include "initramfs/layout.h"
#include "temp_dir.h"

using namespace cvm;
using namespace cvm::initramfs;

namespace {

struct Fixture {
    test::TempDir t;
    LayoutInputs inputs;

    Fixture()
    {
        inputs.agent = t.write("cvminit",
                               "\x7f"
                               "ELF agent",
                               0644);  // becomes 0755 regardless
        inputs.config = t.write("cvminit.toml", "[broker]\n");
        t.mkdir("6.12.48+deb13-amd64");
        t.mkdir("6.12.48+deb13-amd64/kernel");
        t.write("6.12.48+deb13-amd64/kernel/failover.ko.xz", "FAILOVER");
        t.write("6.12.48+deb13-amd64/kernel/net_failover.ko.xz", "NET_FAILOVER");
        t.write("6.12.48+deb13-amd64/kernel/virtio_net.ko.xz", "VIRTIO_NET");
        t.write("6.12.48+deb13-amd64/modules.dep",
                "kernel/failover.ko.xz:\n"
                "kernel/net_failover.ko.xz: kernel/failover.ko.xz\n"
                "kernel/virtio_net.ko.xz: kernel/net_failover.ko.xz kernel/failover.ko.xz\n");
        t.write("6.12.48+deb13-amd64/modules.builtin", "kernel/drivers/virtio/virtio_pci.ko\n");
        inputs.kernel_modules = t.at("6.12.48+deb13-amd64");
        inputs.modules = {"virtio-net", "virtio_pci"};
        t.mkdir("root");
        t.write("root/hello", "hi", 0755);
    }

    std::map<std::string, std::pair<uint32_t, std::string>> entries()
    {
        auto layout = build_layout(inputs);
        REQUIRE_MESSAGE(layout.ok(), layout.error().message());
        BufferSink sink;
        REQUIRE(layout->archive.write(sink, 0).ok());
        auto parsed = read_newc(sink.bytes());
        REQUIRE(parsed.ok());
        std::map<std::string, std::pair<uint32_t, std::string>> out;
        for (const NewcEntry& e : parsed.value())
            out[e.path] = {e.mode, std::string(e.data.begin(), e.data.end())};
        return out;
    }
};

}  // namespace

TEST_CASE("the agent, its config, modules in load order, the workload and extra files")
{
    Fixture f;
    f.inputs.root = f.t.at("root");
    f.inputs.files = {parse_extra_file(f.t.at("cvminit.toml") + ":/etc/extra.toml").value()};
    auto e = f.entries();
    CHECK(e["init"] == std::pair<uint32_t, std::string>{0100755, "\x7f"
                                                                 "ELF agent"});
    CHECK(e["etc/cvminit.toml"] == std::pair<uint32_t, std::string>{0100644, "[broker]\n"});
    CHECK(e["etc/cvminit/modules"].second ==
          "kernel/failover.ko.xz\nkernel/net_failover.ko.xz\nkernel/virtio_net.ko.xz\n");
    CHECK(e["lib/modules/6.12.48+deb13-amd64/kernel/virtio_net.ko.xz"] ==
          std::pair<uint32_t, std::string>{0100644, "VIRTIO_NET"});
    CHECK(e["workload/hello"] == std::pair<uint32_t, std::string>{0100755, "hi"});
    CHECK(e["etc/extra.toml"].second == "[broker]\n");
    CHECK(e.size() == 15);

    auto layout = build_layout(f.inputs);
    REQUIRE(layout.ok());
    CHECK(layout->kernel_version == "6.12.48+deb13-amd64");
    CHECK(layout->modules.builtin == std::vector<std::string>{"virtio_pci"});
}

TEST_CASE("the smallest initramfs is the agent alone")
{
    Fixture f;
    f.inputs.config.reset();
    f.inputs.kernel_modules.reset();
    f.inputs.modules.clear();
    auto e = f.entries();
    CHECK(e.size() == 1);
    CHECK(e.count("init") == 1);
}

TEST_CASE("inputs build_layout refuses")
{
    Fixture f;
    auto refused = [&](Errc code, std::string_view fragment) {
        auto layout = build_layout(f.inputs);
        REQUIRE_FALSE(layout.ok());
        CHECK(layout.error().code() == code);
        CHECK_MESSAGE(layout.error().message().find(fragment) != std::string_view::npos, layout.error().message());
    };
    SUBCASE("modules without their directory")
    {
        f.inputs.kernel_modules.reset();
        refused(Errc::Config, "--module and --platform need --kernel-modules");
    }
    SUBCASE("a modules directory without modules")
    {
        f.inputs.modules.clear();
        refused(Errc::Config, "without any --module");
    }
    SUBCASE("an unknown module")
    {
        f.inputs.modules = {"e1000e"};
        refused(Errc::Config, "'e1000e' is not in modules.dep");
    }
    SUBCASE("a module file modules.dep lists but the directory lacks")
    {
        REQUIRE(unlink(f.t.at("6.12.48+deb13-amd64/kernel/failover.ko.xz").c_str()) == 0);
        refused(Errc::Io, "failover.ko.xz");
    }
    SUBCASE("an extra file over /init")
    {
        f.inputs.files = {{f.t.at("cvminit.toml"), "/init"}};
        refused(Errc::Config, "/init is the layout's own (the agent: use --agent)");
    }
    SUBCASE("an extra file over the agent's configuration, spelled oddly")
    {
        f.inputs.files = {{f.t.at("cvminit.toml"), "//etc/./cvminit.toml"}};
        refused(Errc::Config, "/etc/cvminit.toml is the layout's own (the agent's configuration: use --config)");
    }
    SUBCASE("an extra file over the module list")
    {
        f.inputs.files = {{f.t.at("cvminit.toml"), "etc/cvminit/modules"}};
        refused(Errc::Config, "/etc/cvminit/modules is the layout's own (the module list");
    }
    SUBCASE("an extra file escaping the root")
    {
        f.inputs.files = {{f.t.at("cvminit.toml"), "/../etc/x"}};
        refused(Errc::Config, "'..'");
    }
    SUBCASE("a missing agent")
    {
        f.inputs.agent = f.t.at("nope");
        refused(Errc::Io, "--agent");
    }
}

TEST_CASE("--file SRC:DEST splits at the last colon")
{
    CHECK(parse_extra_file("a:b:/etc/x").value().source == "a:b");
    CHECK(parse_extra_file("a:b:/etc/x").value().dest == "/etc/x");
    for (const char* bad : {"nocolon", ":/x", "src:"})
        CHECK(parse_extra_file(bad).error().code() == Errc::Config);
}
