// modules.dep resolution: load orders, name equivalence, and every way the input can be wrong.
#include <doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "initramfs/modules.h"

using namespace cvm;
using namespace cvm::initramfs;

namespace {

// A slice of Debian trixie's modules.dep (6.12), as depmod writes it: complete dependencies,
// the last one loaded first.
constexpr std::string_view TRIXIE = R"(kernel/net/core/failover.ko.xz:
kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz
kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz
kernel/drivers/virtio/virtio_mmio.ko.xz:
kernel/fs/configfs/configfs.ko.xz:
kernel/drivers/virt/coco/tsm.ko.xz: kernel/fs/configfs/configfs.ko.xz
kernel/drivers/virt/coco/sev-guest/sev-guest.ko.xz: kernel/drivers/virt/coco/tsm.ko.xz kernel/fs/configfs/configfs.ko.xz
)";

std::vector<std::string> resolve(std::string_view dep, std::vector<std::string> names, std::string_view builtin = {})
{
    auto index = ModuleIndex::parse(dep, builtin);
    REQUIRE(index.ok());
    auto plan = index->resolve(names);
    REQUIRE(plan.ok());
    return plan->load_order;
}

Error resolve_error(std::string_view dep, std::vector<std::string> names)
{
    auto index = ModuleIndex::parse(dep);
    REQUIRE(index.ok());
    auto plan = index->resolve(names);
    REQUIRE_FALSE(plan.ok());
    return plan.error();
}

Error parse_error(std::string_view dep, std::string_view builtin = {})
{
    auto index = ModuleIndex::parse(dep, builtin);
    REQUIRE_FALSE(index.ok());
    CHECK(index.error().code() == Errc::Format);
    return index.error();
}

bool mentions(const Error& e, std::string_view s)
{
    return e.message().find(s) != std::string_view::npos;
}

}  // namespace

TEST_CASE("module names as modprobe takes them")
{
    CHECK(module_name("kernel/drivers/virt/coco/sev-guest/sev-guest.ko.xz") == "sev_guest");
    CHECK(module_name("sev-guest") == "sev_guest");
    CHECK(module_name("virtio_net.ko") == "virtio_net");
    CHECK(module_name("a/b-c.ko.zst") == "b_c");
    CHECK(module_name("x.ko.gz") == "x");
}

TEST_CASE("a chain loads dependencies first")
{
    CHECK(resolve(TRIXIE, {"virtio_net"}) == std::vector<std::string>{"kernel/net/core/failover.ko.xz",
                                                                      "kernel/drivers/net/net_failover.ko.xz",
                                                                      "kernel/drivers/net/virtio_net.ko.xz"});
}

TEST_CASE("'-' and '_' are the same in module names")
{
    auto want = std::vector<std::string>{"kernel/fs/configfs/configfs.ko.xz", "kernel/drivers/virt/coco/tsm.ko.xz",
                                         "kernel/drivers/virt/coco/sev-guest/sev-guest.ko.xz"};
    CHECK(resolve(TRIXIE, {"sev_guest"}) == want);
    CHECK(resolve(TRIXIE, {"sev-guest"}) == want);
    CHECK(resolve("kernel/a_b.ko: kernel/c-d.ko\nkernel/c-d.ko:\n", {"a-b"}) ==
          std::vector<std::string>{"kernel/c-d.ko", "kernel/a_b.ko"});
}

TEST_CASE("a diamond loads the shared dependency once, before both users")
{
    std::string_view dep = "top.ko: left.ko right.ko base.ko\n"
                           "left.ko: base.ko\n"
                           "right.ko: base.ko\n"
                           "base.ko:\n";
    auto order = resolve(dep, {"top"});
    CHECK(order == std::vector<std::string>{"base.ko", "right.ko", "left.ko", "top.ko"});
    // Whatever order a modules.dep line lists its dependencies in, each comes before its users.
    std::string_view shuffled = "top.ko: base.ko left.ko right.ko\n"
                                "left.ko: base.ko\n"
                                "right.ko: base.ko\n"
                                "base.ko:\n";
    order = resolve(shuffled, {"top"});
    auto pos = [&](const char* p) { return std::find(order.begin(), order.end(), p) - order.begin(); };
    CHECK(order.size() == 4);
    CHECK(pos("base.ko") < pos("left.ko"));
    CHECK(pos("base.ko") < pos("right.ko"));
    CHECK(pos("top.ko") == 3);
}

TEST_CASE("several requested modules share dependencies; each module loads once")
{
    auto order = resolve(TRIXIE, {"net_failover", "virtio-net", "failover", "virtio_net", "virtio_mmio"});
    CHECK(order == std::vector<std::string>{"kernel/net/core/failover.ko.xz", "kernel/drivers/net/net_failover.ko.xz",
                                            "kernel/drivers/net/virtio_net.ko.xz",
                                            "kernel/drivers/virtio/virtio_mmio.ko.xz"});
}

TEST_CASE("built-in modules need no loading")
{
    auto index =
        ModuleIndex::parse(TRIXIE, "kernel/drivers/virtio/virtio_pci.ko\nkernel/drivers/block/virtio_blk.ko\n");
    REQUIRE(index.ok());
    std::vector<std::string> names = {"virtio-pci", "virtio_net", "virtio_pci"};
    auto plan = index->resolve(names);
    REQUIRE(plan.ok());
    CHECK(plan->builtin == std::vector<std::string>{"virtio_pci"});
    CHECK(plan->load_order.size() == 3);
}

TEST_CASE("a cycle is refused, naming it")
{
    Error e = resolve_error("a.ko: b.ko\nb.ko: c.ko\nc.ko: a.ko\n", {"a"});
    CHECK(e.code() == Errc::Config);
    CHECK_MESSAGE(mentions(e, "a -> b -> c -> a"), e.message());
    e = resolve_error("x.ko: a.ko\na.ko: b.ko\nb.ko: a.ko\n", {"x"});
    CHECK_MESSAGE(mentions(e, "a -> b -> a"), e.message());
    e = resolve_error("self.ko: self.ko\n", {"self"});
    CHECK_MESSAGE(mentions(e, "self -> self"), e.message());
}

TEST_CASE("a missing module or dependency is refused, naming the module")
{
    Error e = resolve_error(TRIXIE, {"e1000"});
    CHECK(e.code() == Errc::Config);
    CHECK(mentions(e, "'e1000' is not in modules.dep"));
    e = resolve_error("a.ko: kernel/gone.ko.xz\n", {"a"});
    CHECK(e.code() == Errc::Config);
    CHECK(mentions(e, "'a' depends on kernel/gone.ko.xz"));
    for (const char* bad : {"", "kernel/x", "x.ko"}) {
        e = resolve_error(TRIXIE, {bad});
        CHECK(e.code() == Errc::Config);
        CHECK(mentions(e, "not a module name"));
    }
}

TEST_CASE("comments and blank lines are ignored; malformed lines are refused with their number")
{
    CHECK(resolve("# made by hand\n\n   # indented comment\n  a.ko:  b.ko\t c.ko \nb.ko:\nc.ko:", {"a"}) ==
          std::vector<std::string>{"c.ko", "b.ko", "a.ko"});
    CHECK(mentions(parse_error("a.ko:\nb.ko\n"), "line 2: expected 'path:"));
    CHECK(mentions(parse_error("/lib/modules/6.1/a.ko:\n"), "line 1"));
    CHECK(mentions(parse_error("../a.ko:\n"), "not a relative"));
    CHECK(mentions(parse_error("kernel/../../a.ko:\n"), "not a relative"));
    CHECK(mentions(parse_error("a.ko: ../b.ko\n"), "not a relative"));
    CHECK(mentions(parse_error("a.txt:\n"), "not a relative"));
    CHECK(mentions(parse_error(".ko:\n"), "not a relative"));
    CHECK(mentions(parse_error("a.ko:\r\n"), "not a relative"));
    CHECK(mentions(parse_error("a b.ko:\n"), "not a relative"));
    CHECK(mentions(parse_error("x/a.ko:\ny/a.ko.xz:\n"), "listed twice"));
    CHECK(mentions(parse_error("a.ko:\na.ko:\n"), "listed twice"));
    CHECK(mentions(parse_error("a.ko:\n", "/abs/b.ko\n"), "modules.builtin line 1"));
    CHECK(mentions(parse_error(std::string(MAX_MODULES_DEP_BYTES + 1, '#')), "larger than allowed"));
}
