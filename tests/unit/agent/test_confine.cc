// The pure half of the workload's confinement (agent/confine.h): which steps, in which order,
// from which configuration, and which capabilities. test_confine_live.cc runs the plan.
#include <doctest.h>

#include <algorithm>
#include <set>

#include "confine.h"

using namespace cvm;
using namespace cvm::agent;

namespace {

std::vector<StepKind> kinds(const std::vector<Step>& plan)
{
    std::vector<StepKind> out;
    for (const Step& s : plan)
        out.push_back(s.kind);
    return out;
}

// Position of the first step of `kind`, or plan.size() when absent.
size_t position(const std::vector<Step>& plan, StepKind kind)
{
    return static_cast<size_t>(
        std::find_if(plan.begin(), plan.end(), [kind](const Step& s) { return s.kind == kind; }) - plan.begin());
}

size_t last_position(const std::vector<Step>& plan, StepKind kind)
{
    for (size_t i = plan.size(); i-- > 0;) {
        if (plan[i].kind == kind)
            return i;
    }
    return plan.size();
}

bool has(const std::vector<Step>& plan, StepKind kind)
{
    return position(plan, kind) < plan.size();
}

}  // namespace

TEST_CASE("confine: isolation off confines nothing but still applies a configured user and group")
{
    Confinement off;
    off.isolation = cmdline::Isolation::Off;
    CHECK(confinement_plan(off).empty());
    off.user = 1000;
    CHECK(confinement_plan(off) == std::vector<Step>{{StepKind::SetGroups, ""}, {StepKind::SetUid, ""}});
    off.group = 2000;
    CHECK(confinement_plan(off) ==
          std::vector<Step>{{StepKind::SetGroups, ""}, {StepKind::SetGid, ""}, {StepKind::SetUid, ""}});
    off.user = 0;
    CHECK(confinement_plan(off) == std::vector<Step>{{StepKind::SetGroups, ""}, {StepKind::SetGid, ""}});
}

TEST_CASE("confine: the strict plan for root, in order, with a guest's paths")
{
    Confinement c;
    std::vector<Step> plan = confinement_plan(c);
    std::vector<Step> expected{
        {StepKind::UnshareMountNamespace, ""},
        {StepKind::MakeMountsPrivate, "/"},
        {StepKind::UnmountConfigfs, "/sys/kernel/config"},
        {StepKind::MountStaging, "/tmp"},
        {StepKind::MaskDevice, "/dev/sev-guest"},
        {StepKind::MaskDevice, "/dev/sev"},
        {StepKind::HideDirectory, "/sys/firmware/qemu_fw_cfg"},
        {StepKind::ReleaseStaging, "/tmp"},
        {StepKind::MakeReadOnly, "/sys"},
        {StepKind::MakeReadOnly, "/proc/sys"},
        {StepKind::MakeReadOnly, "/proc/sysrq-trigger"},
        {StepKind::NoNewPrivs, ""},
        {StepKind::DropBoundingSet, ""},
        {StepKind::ClearAmbientSet, ""},
        {StepKind::DropCapabilities, ""},
        {StepKind::Verify, ""},
    };
    CHECK(plan == expected);
}

TEST_CASE("confine: every mount step runs while CAP_SYS_ADMIN is held, ids before the last drop")
{
    for (uint32_t user : {0u, 1000u}) {
        for (uint32_t group : {0u, 2000u}) {
            CAPTURE(user);
            CAPTURE(group);
            Confinement c;
            c.user = user;
            c.group = group;
            std::vector<Step> plan = confinement_plan(c);
            CHECK(plan.front().kind == StepKind::UnshareMountNamespace);
            CHECK(plan.back().kind == StepKind::Verify);
            size_t first_capability_step = position(plan, StepKind::NoNewPrivs);
            for (StepKind mount_step :
                 {StepKind::MakeMountsPrivate, StepKind::UnmountConfigfs, StepKind::MountStaging, StepKind::MaskDevice,
                  StepKind::HideDirectory, StepKind::ReleaseStaging, StepKind::MakeReadOnly}) {
                CHECK(last_position(plan, mount_step) < first_capability_step);
                CHECK(position(plan, StepKind::UnshareMountNamespace) < position(plan, mount_step));
            }
            // The masks come from the staging tmpfs: mounted before, detached after.
            CHECK(position(plan, StepKind::MountStaging) < position(plan, StepKind::MaskDevice));
            CHECK(last_position(plan, StepKind::HideDirectory) < position(plan, StepKind::ReleaseStaging));
            // The bounding set needs CAP_SETPCAP, which setresuid to a user takes away.
            CHECK(position(plan, StepKind::DropBoundingSet) < position(plan, StepKind::SetUid));
            CHECK(position(plan, StepKind::ClearAmbientSet) < position(plan, StepKind::SetUid));
            CHECK(has(plan, StepKind::SetGroups) == (user != 0 || group != 0));
            CHECK(has(plan, StepKind::SetGid) == (group != 0));
            CHECK(has(plan, StepKind::SetUid) == (user != 0));
            if (group != 0) {
                CHECK(position(plan, StepKind::SetGroups) < position(plan, StepKind::SetGid));
                CHECK(position(plan, StepKind::SetGid) < position(plan, StepKind::SetUid));  // SETGID while held
            }
            CHECK(position(plan, StepKind::DropCapabilities) == plan.size() - 2);
        }
    }
}

TEST_CASE("confine: the paths come from the configuration, so tests can use stand-ins")
{
    Confinement c;
    c.paths.devices = {"/t/dev/sev-guest"};
    c.paths.configfs = "/t/config";
    c.paths.hidden_dirs = {};
    c.paths.read_only = {"/t/sys"};
    c.paths.staging = "/t/staging";
    std::vector<Step> plan = confinement_plan(c);
    CHECK(plan[position(plan, StepKind::UnmountConfigfs)].path == "/t/config");
    CHECK(plan[position(plan, StepKind::MountStaging)].path == "/t/staging");
    CHECK(plan[position(plan, StepKind::MaskDevice)].path == "/t/dev/sev-guest");
    CHECK_FALSE(has(plan, StepKind::HideDirectory));
    CHECK(plan[position(plan, StepKind::MakeReadOnly)].path == "/t/sys");
    std::vector<StepKind> k = kinds(plan);
    CHECK(std::count(k.begin(), k.end(), StepKind::MaskDevice) == 1);
}

TEST_CASE("confine: the dropped capabilities are the issue's four and the ways around them")
{
    std::set<std::string> names;
    for (int cap : DROPPED_CAPABILITIES)
        names.insert(capability_name(cap));
    CHECK(names == std::set<std::string>{"CAP_SYS_ADMIN", "CAP_MKNOD", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
                                         "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH", "CAP_SYS_BOOT", "CAP_BPF",
                                         "CAP_PERFMON"});
    // The numbers are the kernel's (include/uapi/linux/capability.h), not ours to choose.
    CHECK(CAP_NUM_DAC_READ_SEARCH == 2);
    CHECK(CAP_NUM_SYS_MODULE == 16);
    CHECK(CAP_NUM_SYS_RAWIO == 17);
    CHECK(CAP_NUM_SYS_PTRACE == 19);
    CHECK(CAP_NUM_SYS_ADMIN == 21);
    CHECK(CAP_NUM_SYS_BOOT == 22);
    CHECK(CAP_NUM_MKNOD == 27);
    CHECK(CAP_NUM_PERFMON == 38);
    CHECK(CAP_NUM_BPF == 39);
    // Kept: what a root workload ordinarily uses, including setuid/setgid to drop to a user.
    for (int kept : {0 /* CHOWN */, 1 /* DAC_OVERRIDE */, 6 /* SETGID */, 7 /* SETUID */, 12 /* NET_ADMIN */})
        CHECK(std::find(DROPPED_CAPABILITIES.begin(), DROPPED_CAPABILITIES.end(), kept) == DROPPED_CAPABILITIES.end());
    CHECK(capability_name(12) == "CAP_12");
}

TEST_CASE("confine: each step is described for the FATAL line with its path")
{
    CHECK(describe({StepKind::UnmountConfigfs, "/sys/kernel/config"}) == "unmount configfs at /sys/kernel/config");
    CHECK(describe({StepKind::MaskDevice, "/dev/sev-guest"}) == "mask the report device /dev/sev-guest");
    CHECK(describe({StepKind::MakeReadOnly, "/proc/sys"}) == "make /proc/sys read-only");
    CHECK(describe({StepKind::SetUid, ""}) == "set the workload's user");
    std::set<std::string> all;
    for (const Step& s : confinement_plan(Confinement{cmdline::Isolation::Strict, 1, 1, {}, {}}))
        all.insert(describe(s));
    CHECK(all.size() == confinement_plan(Confinement{cmdline::Isolation::Strict, 1, 1, {}, {}}).size());  // distinct
}
