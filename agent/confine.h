// The workload's confinement (issue 15, "the agent is the only door to the hardware"): what the
// child of start_workload() does after fork and before execve when isolation is "strict", so that
// no process of the workload can obtain an attestation report with REPORT_DATA of its choosing
// and so attest as the agent. docs/agent-api.md "What the workload gets" is the user's view.
//
// The confinement is a plan (a list of steps, pure, in the order they must run: the mount steps
// need CAP_SYS_ADMIN, the bounding set drop needs CAP_SETPCAP, the id change CAP_SETUID/SETGID,
// so capabilities go last) and an executor that runs it in the child:
//
//   1. a private mount namespace (unshare(CLONE_NEWNS), every mount MS_PRIVATE): PID 1 keeps its
//      own namespace, its devices and configfs, and nothing the child mounts propagates back;
//   2. every mount at the configfs path detached (configfs-tsm goes with it);
//   3. each report device node covered by a bind mount of a character node 0:0 on a read-only,
//      nodev tmpfs (open fails with EACCES whatever the caller's uid or capabilities), each
//      hidden directory (QEMU's fw_cfg, which holds the simulated PSP's key) by an empty one; the
//      tmpfs is mounted on the staging directory for the moment it takes and detached again;
//   4. /sys, /proc/sys and /proc/sysrq-trigger read-only, recursively (mount_setattr): a root
//      workload without capabilities could still write kernel.core_pattern or kernel.modprobe
//      (proc_sysctl.c: test_perm() checks only the mode bits for euid 0) or sysfs's
//      uevent_helper, and have the kernel start a program of its choosing with every capability
//      in PID 1's mount namespace, where the report device is;
//   5. PR_SET_NO_NEW_PRIVS; DROPPED_CAPABILITIES out of the bounding set; the ambient set cleared;
//      setgroups (none, or the agent API's group), setresgid, setresuid when a user or group is
//      configured; the dropped capabilities out of the effective and permitted sets and the
//      inheritable set cleared;
//   6. everything read back (capget, PR_CAPBSET_READ, PR_GET_NO_NEW_PRIVS, getresuid/getresgid,
//      getgroups) and any difference is a failure.
//
// A path that does not exist is skipped: a report device or configfs that is not there cannot
// appear later, since loading modules and making device nodes are the agent's alone.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel-cmdline/agent_config.h"

namespace cvm::agent {

// Where the confinement works; the defaults are a guest's paths, tests point them at stand-ins.
struct ConfinePaths {
    // Report devices: the guest's (sev-guest.c misc device) and the host's PSP device.
    std::vector<std::string> devices{"/dev/sev-guest", "/dev/sev"};
    std::string configfs{"/sys/kernel/config"};
    std::vector<std::string> hidden_dirs{"/sys/firmware/qemu_fw_cfg"};
    std::vector<std::string> read_only{"/sys", "/proc/sys", "/proc/sysrq-trigger"};
    // A directory of the workload's tree a private tmpfs is stacked on while the masks are made
    // (stage handoff always mounts /tmp); the tmpfs is detached before the workload starts.
    std::string staging{"/tmp"};
};

struct Confinement {
    cmdline::Isolation isolation{cmdline::Isolation::Strict};
    uint32_t user{0};   // 0: stays root
    uint32_t group{0};  // 0: stays gid 0
    ConfinePaths paths;
    // [agent_api] group: with a user or group set, the workload's one supplementary group (unless
    // it is `group` already), so it can reach the 0660 socket; otherwise it has none.
    std::optional<uint32_t> api_group;
};

// Whether `c` gives the workload the agent API's group as a supplementary group.
inline bool api_supplementary(const Confinement& c)
{
    return (c.user != 0 || c.group != 0) && c.api_group && *c.api_group != c.group;
}

// Capability numbers (include/uapi/linux/capability.h) dropped from every set, each with its
// reason in docs/agent-api.md: the four the issue requires, then the ways around them.
inline constexpr int CAP_NUM_DAC_READ_SEARCH = 2;  // open_by_handle_at reaches inodes past mounts
inline constexpr int CAP_NUM_SYS_MODULE = 16;      // load a module: the kernel itself
inline constexpr int CAP_NUM_SYS_RAWIO = 17;       // /dev/mem, /proc/kcore, iopl
inline constexpr int CAP_NUM_SYS_PTRACE = 19;      // PID 1's memory and /proc/1/root
inline constexpr int CAP_NUM_SYS_ADMIN = 21;       // mount, umount, setns
inline constexpr int CAP_NUM_SYS_BOOT = 22;        // kexec_load: another kernel reads VMPCK0
inline constexpr int CAP_NUM_MKNOD = 27;           // make the device node again
inline constexpr int CAP_NUM_PERFMON = 38;         // kprobes/perf reading kernel memory
inline constexpr int CAP_NUM_BPF = 39;             // with PERFMON, bpf_probe_read_kernel
inline constexpr std::array<int, 9> DROPPED_CAPABILITIES{
    CAP_NUM_SYS_ADMIN,       CAP_NUM_MKNOD,    CAP_NUM_SYS_MODULE, CAP_NUM_SYS_RAWIO, CAP_NUM_SYS_PTRACE,
    CAP_NUM_DAC_READ_SEARCH, CAP_NUM_SYS_BOOT, CAP_NUM_BPF,        CAP_NUM_PERFMON,
};
// "CAP_SYS_ADMIN", ...; "CAP_<n>" for a number not in the list above.
std::string capability_name(int cap);

enum class StepKind : uint8_t {
    UnshareMountNamespace,
    MakeMountsPrivate,
    UnmountConfigfs,
    MountStaging,
    MaskDevice,
    HideDirectory,
    ReleaseStaging,
    MakeReadOnly,
    NoNewPrivs,
    DropBoundingSet,
    ClearAmbientSet,
    SetGroups,
    SetGid,
    SetUid,
    DropCapabilities,
    Verify,
};

struct Step {
    StepKind kind;
    std::string path;  // the path a mount step works on; empty for the others
    bool operator==(const Step&) const = default;
};

// The steps for `c`, in order. With isolation off only the id change (SetGroups, SetGid,
// SetUid) when a user or group is configured, else nothing.
std::vector<Step> confinement_plan(const Confinement& c);

// "unmount configfs at /sys/kernel/config", for the FATAL line.
std::string describe(const Step& step);

// Why a step failed: errno (0 when a read-back found a difference) and the step with its detail.
struct StepFailure {
    int error{0};
    char what[200]{};
};

// In the child only, after fork and before execve: runs `plan`, stopping at the first failure,
// which it returns. Uses no lock a thread of the parent could have held at fork but malloc's.
std::optional<StepFailure> run_confinement(const std::vector<Step>& plan, const Confinement& c);

}  // namespace cvm::agent
