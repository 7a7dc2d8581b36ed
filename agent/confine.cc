// The executor runs raw syscalls (prctl, capget/capset, mount_setattr) rather than libcap: the
// agent is a static musl binary and the steps are few. Kernel behaviour each step relies on:
//   fs/namespace.c: do_umount() (EINVAL on a path that is not a mount point, so the loop below
//     ends), do_loopback() (a bind mount copies the source mount's nodev), mount_setattr()
//     (AT_RECURSIVE applies to every mount below a mount root);
//   fs/namei.c: vfs_mknod() (capable(CAP_MKNOD) for device nodes), may_open_dev() (EACCES on a
//     nodev mount);
//   kernel/capability.c: capset() (permitted may only shrink), security/commoncap.c:
//     cap_bprm_creds_from_file() (a root execve gets the bounding set; no_new_privs keeps file
//     capabilities from adding any), cap_task_fix_setuid() (setresuid to non-zero clears them).
#include "confine.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace cvm::agent {
namespace {

using cmdline::Isolation;

// include/uapi/linux/mount.h, include/uapi/linux/fcntl.h (glibc 2.36 cannot include
// <linux/mount.h> beside <sys/mount.h>).
struct MountAttr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};
constexpr uint64_t MOUNT_ATTR_RDONLY_FLAG = 0x00000001;
constexpr unsigned AT_RECURSIVE_FLAG = 0x8000;
#ifndef SYS_mount_setattr
constexpr long SYS_mount_setattr = 442;  // x86_64 (arch/x86/entry/syscalls/syscall_64.tbl)
#endif

constexpr int MAX_STACKED_MOUNTS = 16;  // configfs mounted more often than this is not the agent's
constexpr unsigned long MASK_FLAGS = MS_NODEV | MS_NOSUID | MS_NOEXEC;

std::string staged(const Confinement& c, const char* name)
{
    return c.paths.staging + "/" + name;
}

bool exists(const std::string& path, bool* is_dir = nullptr)
{
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)
        return false;
    if (is_dir)
        *is_dir = S_ISDIR(st.st_mode);
    return true;
}

std::optional<StepFailure> failure(int error, const Step& step, const char* detail = "")
{
    StepFailure f;
    f.error = error;
    snprintf(f.what, sizeof f.what, "%s%s", describe(step).c_str(), detail);
    return f;
}

// Errno-style: 0 or the errno of the first failed call.
int errno_of(int rc)
{
    return rc == 0 ? 0 : errno;
}

int bind_read_only(const std::string& source, const std::string& target)
{
    if (mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
        return errno;
    return errno_of(mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MASK_FLAGS, nullptr));
}

int unmount_all(const std::string& path)
{
    for (int i = 0; i < MAX_STACKED_MOUNTS; ++i) {
        if (umount2(path.c_str(), MNT_DETACH) != 0)
            return errno == EINVAL || errno == ENOENT ? 0 : errno;  // no (more) mount there
    }
    return EBUSY;
}

// A tmpfs holding the two masks: a character node 0:0 (no driver has it) and an empty directory,
// then read-only. Its mount carries nodev, which every bind of the node inherits.
int mount_staging(const Confinement& c)
{
    const std::string& dir = c.paths.staging;
    if (mount("cvminit-mask", dir.c_str(), "tmpfs", MASK_FLAGS, "mode=0755,size=16k,nr_inodes=8") != 0)
        return errno;
    if (mknod(staged(c, "node").c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0 ||
        mkdir(staged(c, "empty").c_str(), 0555) != 0)
        return errno;
    return errno_of(mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | MASK_FLAGS, nullptr));
}

int make_read_only(const std::string& path)
{
    if (mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        return errno;
    MountAttr attr{MOUNT_ATTR_RDONLY_FLAG, 0, 0, 0};
    return errno_of(
        static_cast<int>(syscall(SYS_mount_setattr, AT_FDCWD, path.c_str(), AT_RECURSIVE_FLAG, &attr, sizeof attr)));
}

// The kernel knows `cap` (PR_CAPBSET_READ is EINVAL past CAP_LAST_CAP of the running kernel).
bool kernel_has(int cap)
{
    return prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0;
}

int drop_bounding_set()
{
    for (int cap : DROPPED_CAPABILITIES) {
        if (kernel_has(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
            return errno;
    }
    return 0;
}

struct CapSets {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
};

int get_caps(CapSets& sets)
{
    return errno_of(static_cast<int>(syscall(SYS_capget, &sets.header, sets.data)));
}

int drop_capabilities()
{
    CapSets sets;
    if (int e = get_caps(sets))
        return e;
    for (int cap : DROPPED_CAPABILITIES) {
        uint32_t bit = 1u << (cap % 32);
        sets.data[cap / 32].effective &= ~bit;
        sets.data[cap / 32].permitted &= ~bit;
    }
    for (auto& d : sets.data)
        d.inheritable = 0;
    return errno_of(static_cast<int>(syscall(SYS_capset, &sets.header, sets.data)));
}

// Everything the steps promised, read back. `detail` names the first difference.
bool verify(const Confinement& c, char* detail, size_t size)
{
    CapSets sets;
    if (get_caps(sets) != 0) {
        snprintf(detail, size, " (capget: errno %d)", errno);
        return false;
    }
    for (int cap : DROPPED_CAPABILITIES) {
        if (!kernel_has(cap))
            continue;
        uint32_t bit = 1u << (cap % 32);
        const auto& d = sets.data[cap / 32];
        bool held = prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0 || (d.effective & bit) || (d.permitted & bit) ||
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) != 0;
        if (held) {
            snprintf(detail, size, ": %s is still held, expected dropped", capability_name(cap).c_str());
            return false;
        }
    }
    if (sets.data[0].inheritable != 0 || sets.data[1].inheritable != 0) {
        snprintf(detail, size, ": the inheritable set is %08x%08x, expected empty", sets.data[1].inheritable,
                 sets.data[0].inheritable);
        return false;
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
        snprintf(detail, size, ": no_new_privs is not set");
        return false;
    }
    uid_t ru = static_cast<uid_t>(-1), eu = ru, su = ru;  // -1: not read
    gid_t rg = static_cast<gid_t>(-1), eg = rg, sg = rg;
    if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != c.user || eu != c.user ||
        su != c.user || rg != c.group || eg != c.group || sg != c.group) {
        snprintf(detail, size, ": uid %u gid %u, expected uid %u gid %u", static_cast<unsigned>(eu),
                 static_cast<unsigned>(eg), c.user, c.group);
        return false;
    }
    if (c.user != 0 || c.group != 0) {
        gid_t groups[2]{};
        int n = getgroups(2, groups);
        bool api = api_supplementary(c);
        if (n != (api ? 1 : 0) || (api && groups[0] != *c.api_group)) {
            snprintf(detail, size, ": %d supplementary groups, expected %s", n, api ? "the agent API's group" : "none");
            return false;
        }
    }
    return true;
}

int run_step(const Step& step, const Confinement& c)
{
    bool is_dir = false;
    switch (step.kind) {
    case StepKind::UnshareMountNamespace: return errno_of(unshare(CLONE_NEWNS));
    case StepKind::MakeMountsPrivate: return errno_of(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr));
    case StepKind::UnmountConfigfs: return unmount_all(step.path);
    case StepKind::MountStaging: return mount_staging(c);
    case StepKind::MaskDevice:
    case StepKind::HideDirectory:
        if (!exists(step.path, &is_dir))
            return 0;
        return bind_read_only(staged(c, is_dir ? "empty" : "node"), step.path);
    case StepKind::ReleaseStaging: return errno_of(umount2(c.paths.staging.c_str(), MNT_DETACH));
    case StepKind::MakeReadOnly: return exists(step.path) ? make_read_only(step.path) : 0;
    case StepKind::NoNewPrivs: return errno_of(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    case StepKind::DropBoundingSet: return drop_bounding_set();
    case StepKind::ClearAmbientSet: return errno_of(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
    case StepKind::SetGroups: {
        const gid_t api = api_supplementary(c) ? *c.api_group : 0;
        return errno_of(setgroups(api_supplementary(c) ? 1 : 0, &api));
    }
    case StepKind::SetGid: return errno_of(setresgid(c.group, c.group, c.group));
    case StepKind::SetUid: return errno_of(setresuid(c.user, c.user, c.user));
    case StepKind::DropCapabilities: return drop_capabilities();
    case StepKind::Verify: return 0;  // run_confinement reads back with a detail
    }
    return EINVAL;
}

}  // namespace

std::string capability_name(int cap)
{
    switch (cap) {
    case CAP_NUM_DAC_READ_SEARCH: return "CAP_DAC_READ_SEARCH";
    case CAP_NUM_SYS_MODULE: return "CAP_SYS_MODULE";
    case CAP_NUM_SYS_RAWIO: return "CAP_SYS_RAWIO";
    case CAP_NUM_SYS_PTRACE: return "CAP_SYS_PTRACE";
    case CAP_NUM_SYS_ADMIN: return "CAP_SYS_ADMIN";
    case CAP_NUM_SYS_BOOT: return "CAP_SYS_BOOT";
    case CAP_NUM_MKNOD: return "CAP_MKNOD";
    case CAP_NUM_PERFMON: return "CAP_PERFMON";
    case CAP_NUM_BPF: return "CAP_BPF";
    default: return "CAP_" + std::to_string(cap);
    }
}

std::vector<Step> confinement_plan(const Confinement& c)
{
    if (c.isolation == Isolation::Off) {
        // No confinement, but the configured ids all the same: a user asked for is never root.
        std::vector<Step> ids;
        if (c.user != 0 || c.group != 0)
            ids.push_back({StepKind::SetGroups, ""});
        if (c.group != 0)
            ids.push_back({StepKind::SetGid, ""});
        if (c.user != 0)
            ids.push_back({StepKind::SetUid, ""});
        return ids;
    }
    std::vector<Step> plan{{StepKind::UnshareMountNamespace, ""},
                           {StepKind::MakeMountsPrivate, "/"},
                           {StepKind::UnmountConfigfs, c.paths.configfs},
                           {StepKind::MountStaging, c.paths.staging}};
    for (const std::string& d : c.paths.devices)
        plan.push_back({StepKind::MaskDevice, d});
    for (const std::string& d : c.paths.hidden_dirs)
        plan.push_back({StepKind::HideDirectory, d});
    plan.push_back({StepKind::ReleaseStaging, c.paths.staging});
    for (const std::string& p : c.paths.read_only)
        plan.push_back({StepKind::MakeReadOnly, p});
    // Capabilities last: every step above needs CAP_SYS_ADMIN. The bounding set before the id
    // change, which takes CAP_SETPCAP away from a non-root user.
    plan.push_back({StepKind::NoNewPrivs, ""});
    plan.push_back({StepKind::DropBoundingSet, ""});
    plan.push_back({StepKind::ClearAmbientSet, ""});
    if (c.user != 0 || c.group != 0)
        plan.push_back({StepKind::SetGroups, ""});
    if (c.group != 0)
        plan.push_back({StepKind::SetGid, ""});  // while CAP_SETGID is still held
    if (c.user != 0)
        plan.push_back({StepKind::SetUid, ""});
    plan.push_back({StepKind::DropCapabilities, ""});
    plan.push_back({StepKind::Verify, ""});
    return plan;
}

std::string describe(const Step& step)
{
    switch (step.kind) {
    case StepKind::UnshareMountNamespace: return "unshare the mount namespace";
    case StepKind::MakeMountsPrivate: return "make every mount private";
    case StepKind::UnmountConfigfs: return "unmount configfs at " + step.path;
    case StepKind::MountStaging: return "mount the masks' tmpfs on " + step.path;
    case StepKind::MaskDevice: return "mask the report device " + step.path;
    case StepKind::HideDirectory: return "hide " + step.path;
    case StepKind::ReleaseStaging: return "detach the masks' tmpfs from " + step.path;
    case StepKind::MakeReadOnly: return "make " + step.path + " read-only";
    case StepKind::NoNewPrivs: return "set no_new_privs";
    case StepKind::DropBoundingSet: return "drop capabilities from the bounding set";
    case StepKind::ClearAmbientSet: return "clear the ambient capabilities";
    case StepKind::SetGroups: return "set the supplementary groups";
    case StepKind::SetGid: return "set the workload's group";
    case StepKind::SetUid: return "set the workload's user";
    case StepKind::DropCapabilities: return "drop capabilities from the effective and permitted sets";
    case StepKind::Verify: return "verify the confinement";
    }
    return "an unknown confinement step";
}

std::optional<StepFailure> run_confinement(const std::vector<Step>& plan, const Confinement& c)
{
    for (const Step& step : plan) {
        if (step.kind == StepKind::Verify) {
            char detail[160] = "";
            if (!verify(c, detail, sizeof detail))
                return failure(0, step, detail);
            continue;
        }
        if (int e = run_step(step, c))
            return failure(e, step);
    }
    return std::nullopt;
}

}  // namespace cvm::agent
