// Module presets: --platform snp adds the gcm(aes) crypto up to 6.12 and only modules.dep's
// symbol dependencies from 6.13; --platform sim the fw_cfg and NIC drivers; the kernel release
// decides, and a kernel without a needed module is refused by name.
#include <doctest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "initramfs/layout.h"
#include "initramfs/platforms.h"
#include "temp_dir.h"

using namespace cvm;
using namespace cvm::initramfs;

namespace {

// Debian trixie's 6.12.117 (linux-image-6.12.117+deb13-amd64): the lines of modules.dep and
// modules.builtin that the presets touch, as depmod wrote them for the pinned package.
constexpr std::string_view DEP_6_12 = R"(kernel/crypto/crypto_null.ko.xz:
kernel/crypto/gcm.ko.xz: kernel/crypto/crypto_null.ko.xz
kernel/lib/crypto/gf128mul.ko.xz:
kernel/crypto/ghash-generic.ko.xz: kernel/lib/crypto/gf128mul.ko.xz
kernel/crypto/af_alg.ko.xz:
kernel/crypto/algif_aead.ko.xz: kernel/crypto/af_alg.ko.xz
kernel/fs/configfs/configfs.ko.xz:
kernel/drivers/virt/coco/tsm.ko.xz: kernel/fs/configfs/configfs.ko.xz
kernel/drivers/virt/coco/sev-guest/sev-guest.ko.xz: kernel/drivers/virt/coco/tsm.ko.xz kernel/fs/configfs/configfs.ko.xz
kernel/net/core/failover.ko.xz:
kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz
kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz
kernel/drivers/firmware/qemu_fw_cfg.ko.xz:
)";
constexpr std::string_view BUILTIN_6_12 = "kernel/crypto/aead.ko\nkernel/crypto/ctr.ko\nkernel/crypto/aes_generic.ko\n";

// A post-6.12 tree with mainline's current Makefiles: sev-guest links the AES-GCM library (from
// 6.13), no gcm/ghash in sight, and the report module is tsm_report
// (drivers/virt/coco/guest/Makefile, from 6.16; 6.13 to 6.15 still build drivers/virt/coco/tsm.c
// as `tsm`, as 6.12 does). Only the 6.12 split (gcm or not) depends on the release.
constexpr std::string_view DEP_6_13 = R"(kernel/lib/crypto/libaes.ko:
kernel/lib/crypto/libaesgcm.ko: kernel/lib/crypto/libaes.ko
kernel/fs/configfs/configfs.ko:
kernel/drivers/virt/coco/guest/tsm_report.ko: kernel/fs/configfs/configfs.ko
kernel/drivers/virt/coco/sev-guest/sev-guest.ko: kernel/lib/crypto/libaesgcm.ko kernel/lib/crypto/libaes.ko kernel/drivers/virt/coco/guest/tsm_report.ko kernel/fs/configfs/configfs.ko
kernel/drivers/firmware/qemu_fw_cfg.ko:
kernel/drivers/net/virtio_net.ko:
)";

std::vector<std::string> names(std::vector<Platform> platforms, std::string_view dep, std::string_view builtin,
                               std::string_view release)
{
    auto index = ModuleIndex::parse(dep, builtin);
    REQUIRE(index.ok());
    auto out = platform_modules(platforms, index.value(), release);
    REQUIRE_MESSAGE(out.ok(), out.error().message());
    return out.value();
}

std::vector<std::string> load_order(std::vector<Platform> platforms, std::string_view dep, std::string_view builtin,
                                    std::string_view release)
{
    auto index = ModuleIndex::parse(dep, builtin);
    REQUIRE(index.ok());
    auto plan = index->resolve(names(platforms, dep, builtin, release));
    REQUIRE(plan.ok());
    return plan->load_order;
}

size_t position(const std::vector<std::string>& order, std::string_view path)
{
    auto at = std::find(order.begin(), order.end(), path);
    REQUIRE_MESSAGE(at != order.end(), path);
    return static_cast<size_t>(at - order.begin());
}

}  // namespace

TEST_CASE("platform names")
{
    CHECK(parse_platform("snp").value() == Platform::Snp);
    CHECK(parse_platform("sim").value() == Platform::Sim);
    for (const char* bad : {"", "SNP", "tdx", "snp ", "sim,snp"}) {
        auto p = parse_platform(bad);
        REQUIRE_FALSE(p.ok());
        CHECK(p.error().message().find("expected snp or sim") != std::string_view::npos);
    }
}

TEST_CASE("kernel releases: MAJOR.MINOR at the start")
{
    auto r = parse_kernel_release("6.12.117+deb13-amd64").value();
    CHECK((r.major == 6 && r.minor == 12));
    r = parse_kernel_release("6.13").value();
    CHECK((r.major == 6 && r.minor == 13));
    CHECK(parse_kernel_release("10.0-rc1").value().major == 10);
    for (const char* bad : {"", "6", "6.", ".12", "six.12", "6.x", "-6.12", "99999999999999999999.1"}) {
        auto p = parse_kernel_release(bad);
        REQUIRE_FALSE(p.ok());
        CHECK(p.error().message().find("expected MAJOR.MINOR") != std::string_view::npos);
    }
    CHECK(parse_kernel_release("6.12").value() < parse_kernel_release("6.13").value());
    CHECK(parse_kernel_release("5.19").value() < parse_kernel_release("6.1").value());
    CHECK_FALSE(parse_kernel_release("7.0").value() < LAST_SEV_GUEST_CRYPTO_API);
}

TEST_CASE("snp on 6.12: the gcm(aes) crypto before sev-guest, built-in parts left out")
{
    auto n = names({Platform::Snp}, DEP_6_12, BUILTIN_6_12, "6.12.117+deb13-amd64");
    CHECK(n == std::vector<std::string>{"aes_generic", "ctr", "gcm", "ghash_generic", "configfs", "tsm", "sev_guest",
                                        "qemu_fw_cfg"});
    auto order = load_order({Platform::Snp}, DEP_6_12, BUILTIN_6_12, "6.12.117+deb13-amd64");
    CHECK(order == std::vector<std::string>{"kernel/crypto/crypto_null.ko.xz", "kernel/crypto/gcm.ko.xz",
                                            "kernel/lib/crypto/gf128mul.ko.xz", "kernel/crypto/ghash-generic.ko.xz",
                                            "kernel/fs/configfs/configfs.ko.xz", "kernel/drivers/virt/coco/tsm.ko.xz",
                                            "kernel/drivers/virt/coco/sev-guest/sev-guest.ko.xz",
                                            "kernel/drivers/firmware/qemu_fw_cfg.ko.xz"});
    CHECK(position(order, "kernel/crypto/gcm.ko.xz") <
          position(order, "kernel/drivers/virt/coco/sev-guest/sev-guest.ko.xz"));
    // Older kernels take the same path (the crypto API allocation dates from 5.19).
    CHECK(names({Platform::Snp}, DEP_6_12, BUILTIN_6_12, "6.1.0-test").front() == "aes_generic");
}

TEST_CASE("snp from 6.13: no crypto modules, modules.dep brings the AES-GCM library; tsm_report")
{
    for (const char* release : {"6.13.0", "6.18.2-cloud", "7.0.1"}) {
        auto n = names({Platform::Snp}, DEP_6_13, "", release);
        CHECK(n == std::vector<std::string>{"configfs", "tsm_report", "sev_guest", "qemu_fw_cfg"});
        auto order = load_order({Platform::Snp}, DEP_6_13, "", release);
        CHECK(order == std::vector<std::string>{"kernel/fs/configfs/configfs.ko",
                                                "kernel/drivers/virt/coco/guest/tsm_report.ko",
                                                "kernel/lib/crypto/libaes.ko", "kernel/lib/crypto/libaesgcm.ko",
                                                "kernel/drivers/virt/coco/sev-guest/sev-guest.ko",
                                                "kernel/drivers/firmware/qemu_fw_cfg.ko"});
    }
    // A 6.12 release with this tree would need gcm, which it does not have: refused by name.
    auto index = ModuleIndex::parse(DEP_6_13).value();
    std::vector<Platform> snp{Platform::Snp};
    auto refused = platform_modules(snp, index, "6.12.5");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == Errc::Config);
    CHECK(refused.error().message().find("--platform snp needs module 'aes_generic'") != std::string_view::npos);
}

TEST_CASE("snp with gcm and ghash built in: nothing to load for them")
{
    std::string builtin = std::string(BUILTIN_6_12) + "kernel/crypto/gcm.ko\nkernel/crypto/ghash-generic.ko\n";
    // The same tree with CONFIG_CRYPTO_GCM=y and CONFIG_CRYPTO_GHASH=y: no gcm or ghash lines.
    std::string dep;
    for (std::string_view rest = DEP_6_12; !rest.empty();) {
        std::string_view line = rest.substr(0, rest.find('\n') + 1);
        rest.remove_prefix(line.size());
        if (!line.starts_with("kernel/crypto/gcm") && !line.starts_with("kernel/crypto/ghash"))
            dep += line;
    }
    auto index = ModuleIndex::parse(dep, builtin).value();
    auto n = names({Platform::Snp}, dep, builtin, "6.12.117+deb13-amd64");
    auto plan = index.resolve(n).value();
    CHECK(std::find(plan.load_order.begin(), plan.load_order.end(), "kernel/crypto/gcm.ko.xz") ==
          plan.load_order.end());
    CHECK(plan.builtin == std::vector<std::string>{"aes_generic", "ctr", "gcm", "ghash_generic"});
}

TEST_CASE("snp refuses a kernel without sev-guest or configfs; the report module and qemu_fw_cfg are optional")
{
    std::vector<Platform> snp{Platform::Snp};
    auto no_sev = ModuleIndex::parse("kernel/fs/configfs/configfs.ko:\n").value();
    auto r = platform_modules(snp, no_sev, "6.13.0");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find("'sev_guest'") != std::string_view::npos);
    auto no_tsm = ModuleIndex::parse("kernel/fs/configfs/configfs.ko:\nkernel/sev-guest.ko:\n").value();
    CHECK(platform_modules(snp, no_tsm, "6.13.0").value() == std::vector<std::string>{"configfs", "sev_guest"});
    auto bad_release = platform_modules(snp, no_tsm, "latest");
    REQUIRE_FALSE(bad_release.ok());
    CHECK(bad_release.error().message().find("kernel release 'latest'") != std::string_view::npos);
}

TEST_CASE("sim: qemu_fw_cfg and virtio_net; both platforms at once, each module once")
{
    CHECK(names({Platform::Sim}, DEP_6_12, "", "6.12.117") == std::vector<std::string>{"qemu_fw_cfg", "virtio_net"});
    auto both = names({Platform::Snp, Platform::Sim, Platform::Snp}, DEP_6_12, BUILTIN_6_12, "6.12.117");
    CHECK(both == std::vector<std::string>{"aes_generic", "ctr", "gcm", "ghash_generic", "configfs", "tsm", "sev_guest",
                                           "qemu_fw_cfg", "virtio_net"});
    auto no_nic = ModuleIndex::parse("kernel/qemu_fw_cfg.ko:\n").value();
    std::vector<Platform> sim{Platform::Sim};
    auto r = platform_modules(sim, no_nic, "6.12.0");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find("--platform sim needs module 'virtio_net'") != std::string_view::npos);
}

TEST_CASE("build_layout: the release of the --kernel-modules directory decides")
{
    for (auto [release, dep, want_gcm] :
         {std::tuple{"6.12.117+deb13-amd64", DEP_6_12, true}, std::tuple{"6.13.2-test", DEP_6_13, false}}) {
        test::TempDir t;
        LayoutInputs in;
        in.agent = t.write("cvminit", "agent");
        t.mkdir(release);
        t.write(std::string(release) + "/modules.dep", std::string(dep));
        t.write(std::string(release) + "/modules.builtin", std::string(BUILTIN_6_12));
        // Every module file the tree lists, so the archive can take them.
        std::string text(dep);
        for (size_t at = 0; at < text.size();) {
            size_t colon = text.find(':', at);
            std::string path = text.substr(at, colon - at);
            std::string dir = path.substr(0, path.rfind('/'));
            std::string made;
            for (size_t s = 0; s != std::string::npos && s < dir.size();) {
                size_t next = dir.find('/', s);
                made = dir.substr(0, next);
                ::mkdir(t.at(std::string(release) + "/" + made).c_str(), 0755);
                s = next == std::string::npos ? next : next + 1;
            }
            t.write(std::string(release) + "/" + path, path);
            at = text.find('\n', colon) + 1;
        }
        in.kernel_modules = t.at(release);
        in.platforms = {Platform::Snp, Platform::Sim};
        in.modules = {"algif_aead"};
        if (!want_gcm)
            in.modules.clear();
        auto layout = build_layout(in);
        REQUIRE_MESSAGE(layout.ok(), layout.error().message());
        const auto& order = layout->modules.load_order;
        bool has_gcm = std::find(order.begin(), order.end(), "kernel/crypto/gcm.ko.xz") != order.end();
        CHECK(has_gcm == want_gcm);
        CHECK(order.back() == (want_gcm ? "kernel/crypto/algif_aead.ko.xz" : "kernel/drivers/net/virtio_net.ko"));
    }
}

TEST_CASE("--platform without --kernel-modules is refused")
{
    test::TempDir t;
    LayoutInputs in;
    in.agent = t.write("cvminit", "agent");
    in.platforms = {Platform::Sim};
    auto layout = build_layout(in);
    REQUIRE_FALSE(layout.ok());
    CHECK(layout.error().message().find("--module and --platform need --kernel-modules") != std::string_view::npos);
}
