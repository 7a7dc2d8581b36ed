// The modules stage's judgement of a failed load: sev-guest's ENODEV is simulation's business only
// when the kernel registered no sev-guest device; every other failure is FATAL with its cause.
#include <doctest.h>

#include <cerrno>
#include <string>

#include "module_failure.h"

using namespace cvm::agent;

namespace {

constexpr const char* SEV_GUEST = "kernel/drivers/virt/coco/sev-guest/sev-guest.ko.xz";

ModuleFacts facts(bool simulate, bool device)
{
    ModuleFacts f;
    f.simulate = simulate;
    f.sev_guest_device = device;
    f.release = "6.12.117+deb13-amd64";
    f.releases = {"6.12.117+deb13-amd64"};
    return f;
}

bool says(const ModuleVerdict& v, std::string_view fragment)
{
    return v.text.find(fragment) != std::string::npos;
}

}  // namespace

TEST_CASE("module names as the kernel has them")
{
    CHECK(module_name_of(SEV_GUEST) == "sev_guest");
    CHECK(module_name_of("kernel/crypto/ghash-generic.ko.zst") == "ghash_generic");
    CHECK(module_name_of("gcm.ko") == "gcm");
    CHECK(module_name_of("") == "");
}

TEST_CASE("sev-guest without an SEV-SNP device: simulation goes on, anything else is not an SNP guest")
{
    ModuleVerdict sim = judge_module_failure(SEV_GUEST, LoadStep::Load, ENODEV, facts(true, false));
    CHECK_FALSE(sim.fatal);
    CHECK(sim.text == "sev-guest found no SEV-SNP device (simulation)");

    ModuleVerdict hw = judge_module_failure(SEV_GUEST, LoadStep::Load, ENODEV, facts(false, false));
    CHECK(hw.fatal);
    CHECK(says(hw, "this is not an SEV-SNP guest"));
    CHECK(says(hw, "QEMU TCG"));
    CHECK(says(hw, "cvminit.simulate=1"));
}

TEST_CASE("sev-guest with a device that did not bind: the probe failed, simulation or not")
{
    for (bool simulate : {false, true}) {
        ModuleVerdict v = judge_module_failure(SEV_GUEST, LoadStep::Load, ENODEV, facts(simulate, true));
        CHECK(v.fatal);
        CHECK(says(v, "sev-guest's probe failed"));
        CHECK(says(v, "--platform snp"));
        CHECK_FALSE(says(v, "not an SEV-SNP guest"));
    }
}

TEST_CASE("other sev-guest errors and other modules' ENODEV are fatal even in simulation")
{
    ModuleVerdict sig = judge_module_failure(SEV_GUEST, LoadStep::Load, EKEYREJECTED, facts(true, false));
    CHECK(sig.fatal);
    CHECK(says(sig, "module signatures"));
    ModuleVerdict fw =
        judge_module_failure("kernel/drivers/firmware/qemu_fw_cfg.ko.xz", LoadStep::Load, ENODEV, facts(true, false));
    CHECK(fw.fatal);
    CHECK(says(fw, "module qemu_fw_cfg found no device"));
    // A file named like sev-guest but failing to open is a build fault, not the platform's.
    ModuleVerdict open = judge_module_failure(SEV_GUEST, LoadStep::Open, ENODEV, facts(true, false));
    CHECK(open.fatal);
}

TEST_CASE("a missing module file: another kernel's initramfs, or a list without its files")
{
    ModuleFacts other = facts(false, false);
    other.releases = {"6.1.0-32-amd64"};
    ModuleVerdict v = judge_module_failure("kernel/crypto/gcm.ko.xz", LoadStep::Open, ENOENT, other);
    CHECK(v.fatal);
    CHECK(says(v, "modules for kernel 6.1.0-32-amd64 but this is 6.12.117+deb13-amd64"));

    ModuleVerdict same = judge_module_failure("kernel/crypto/gcm.ko.xz", LoadStep::Open, ENOENT, facts(false, false));
    CHECK(says(same, "does not carry"));
    ModuleFacts none = facts(false, false);
    none.releases.clear();
    CHECK(says(judge_module_failure("gcm.ko", LoadStep::Open, ENOENT, none), "does not carry"));
}

TEST_CASE("finit_module errors name their cause")
{
    auto f = facts(false, false);
    CHECK(says(judge_module_failure("kernel/crypto/gcm.ko.xz", LoadStep::Load, ENOEXEC, f), "is not for this kernel"));
    CHECK(says(judge_module_failure("kernel/crypto/gcm.ko.xz", LoadStep::Load, ENOENT, f), "needs a symbol"));
    CHECK(says(judge_module_failure("kernel/crypto/gcm.ko.xz", LoadStep::Load, EPERM, f), "refuses module loading"));
    CHECK(says(judge_module_failure("kernel/crypto/gcm.ko.xz", LoadStep::Load, EINVAL, f), "--kernel-modules"));
}
