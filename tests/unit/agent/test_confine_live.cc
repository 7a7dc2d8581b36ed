// The workload's confinement run for real (agent/confine.h): as root, in a child process with its
// own mount namespace standing in for PID 1's, on stand-ins of the report device, configfs,
// fw_cfg and /proc/sys under a private tmpfs. A second child is confined and tries, from inside,
// everything a workload would try; a third is started by start_workload() and reports its
// /proc/self/status after execve. The stand-ins must stay
// reachable for the "agent" throughout. Exits 77 (skipped) when this process may not make a mount namespace (not root,
// or a sandbox that forbids it): the kernel path is then untested, and the message says so.
#include <doctest.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "base/file.h"
#include "confine.h"
#include "confine_fixture.h"
#include "supervise.h"

using namespace cvm;
using namespace cvm::agent;
using namespace cvm::test;

namespace {

constexpr uint32_t USER = 1234;
constexpr uint32_t GROUP = 5678;

// 0 or the errno of a call that returned -1.
int err(long rc)
{
    return rc < 0 ? errno : 0;
}

int open_errno(const std::string& path, int flags)
{
    int fd = open(path.c_str(), flags);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

// The stand-ins of a guest's paths, under a private tmpfs at `t`.
struct StandIns {
    std::string t;
    std::string at(const char* rel) const { return t + rel; }

    Confinement confinement(uint32_t user, uint32_t group) const
    {
        Confinement c{cmdline::Isolation::Strict, user, group, {}, {}};
        c.paths.devices = {at("/dev/sev-guest"), at("/dev/sev"), at("/dev/absent")};
        c.paths.configfs = at("/sys/kernel/config");
        c.paths.hidden_dirs = {at("/sys/firmware/qemu_fw_cfg")};
        c.paths.read_only = {at("/sys"), at("/proc_sys"), at("/absent")};
        c.paths.staging = at("/staging");
        return c;
    }
};

bool make_stand_ins(const StandIns& s)
{
    auto dir = [&](const char* rel) { return mkdir(s.at(rel).c_str(), 0755) == 0; };
    // Files anyone may write: what refuses the workload is the confinement, not their modes.
    auto file = [&](const char* rel) {
        int fd = open(s.at(rel).c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
        return fd >= 0 && close(fd) == 0 && chmod(s.at(rel).c_str(), 0666) == 0;
    };
    return mount("standins", s.t.c_str(), "tmpfs", 0, "mode=0777") == 0 && dir("/dev") &&
           mknod(s.at("/dev/sev-guest").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0 &&  // /dev/null's numbers
           chmod(s.at("/dev/sev-guest").c_str(), 0666) == 0 && file("/dev/sev") && dir("/sys") && dir("/sys/kernel") &&
           dir("/sys/kernel/config") &&
           mount("configfs-stand-in", s.at("/sys/kernel/config").c_str(), "tmpfs", 0, nullptr) == 0 &&
           dir("/sys/kernel/config/tsm") && dir("/sys/kernel/config/tsm/report") && dir("/sys/firmware") &&
           dir("/sys/firmware/qemu_fw_cfg") && file("/sys/firmware/qemu_fw_cfg/key") && dir("/proc_sys") &&
           dir("/proc_sys/kernel") && file("/proc_sys/kernel/core_pattern") && dir("/staging") &&
           mkdir(s.at("/work").c_str(), 0777) == 0 && chmod(s.at("/work").c_str(), 0777) == 0;
}

struct Attempt {
    const char* name;
    int expected;  // errno; 0: must succeed
    std::function<int()> run;
};

std::string try_all(const std::vector<Attempt>& attempts)
{
    std::string report;
    for (const Attempt& a : attempts) {
        int got = a.run();
        report += got == a.expected ? "ok " + std::string(a.name) + "\n"
                                    : "FAIL " + std::string(a.name) + ": errno " + std::to_string(got) + " (" +
                                          strerror(got) + "), expected " + std::to_string(a.expected) + "\n";
    }
    return report;
}

// `body`'s errno from a child in a new user and mount namespace; the errno of unshare itself,
// negated, when the kernel does not allow one (the attempt then counts as not made).
int in_user_namespace(const std::function<int()>& body)
{
    int status = run_in_child([&] { return unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? body() : 200 + errno; });
    return status >= 200 ? -(status - 200) : status;
}

bool capability_held(int cap)
{
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    syscall(SYS_capget, &header, data);
    return (data[cap / 32].effective >> (cap % 32)) & 1;
}

// From inside a confined process: every way back to the report device refused.
std::string attempts_inside(const StandIns& s, pid_t agent, uint32_t user, uint32_t group)
{
    bool root = user == 0;
    std::vector<Attempt> attempts{
        {"open the report device", EACCES, [&] { return open_errno(s.at("/dev/sev-guest"), O_RDWR); }},
        {"open it read-only", EACCES, [&] { return open_errno(s.at("/dev/sev-guest"), O_RDONLY); }},
        {"open the PSP device", EACCES, [&] { return open_errno(s.at("/dev/sev"), O_RDONLY); }},
        {"reach configfs-tsm", ENOENT, [&] { return open_errno(s.at("/sys/kernel/config/tsm/report"), O_RDONLY); }},
        {"mkdir in configfs", EROFS, [&] { return err(mkdir(s.at("/sys/kernel/config/tsm").c_str(), 0755)); }},
        {"read fw_cfg", ENOENT, [&] { return open_errno(s.at("/sys/firmware/qemu_fw_cfg/key"), O_RDONLY); }},
        {"write core_pattern", EROFS, [&] { return open_errno(s.at("/proc_sys/kernel/core_pattern"), O_WRONLY); }},
        {"mknod a device", EPERM,
         [&] { return err(mknod(s.at("/work/node").c_str(), S_IFCHR | 0600, makedev(1, 3))); }},
        {"mount configfs-like tmpfs", EPERM,
         [&] { return err(mount("x", s.at("/work").c_str(), "tmpfs", 0, nullptr)); }},
        {"unmount the mask", EPERM, [&] { return err(umount2(s.at("/dev/sev-guest").c_str(), MNT_DETACH)); }},
        {"unshare a new mount namespace", EPERM, [] { return err(unshare(CLONE_NEWNS)); }},
        // A user namespace of its own gives it every capability there, over mounts that came from
        // the agent's namespace locked together (fs/namespace.c: lock_mnt_tree()).
        {"unmount the mask from a user namespace", EINVAL,
         [&] { return in_user_namespace([&] { return err(umount2(s.at("/dev/sev-guest").c_str(), MNT_DETACH)); }); }},
        {"make /sys writable from a user namespace", EPERM,
         [&] {
             return in_user_namespace(
                 [&] { return err(mount(nullptr, s.at("/sys").c_str(), nullptr, MS_REMOUNT | MS_BIND, nullptr)); });
         }},
        {"open_by_handle_at", EPERM,
         [&] {
             // struct file_handle ends in a flexible array: room for the largest handle after it.
             alignas(file_handle) unsigned char storage[sizeof(file_handle) + MAX_HANDLE_SZ]{};
             auto* handle = reinterpret_cast<file_handle*>(storage);
             handle->handle_bytes = MAX_HANDLE_SZ;
             int mount_id = 0;
             if (name_to_handle_at(AT_FDCWD, s.at("/work").c_str(), handle, &mount_id, 0) != 0)
                 return -errno;  // no handle: the attempt is not made, and that is a failure
             int mount_fd = open(s.t.c_str(), O_RDONLY | O_DIRECTORY);
             int fd = open_by_handle_at(mount_fd, handle, O_RDONLY);
             int e = fd < 0 ? errno : 0;
             if (fd >= 0)
                 close(fd);
             close(mount_fd);
             return e;
         }},
        {"PID 1's /proc/N/root", EACCES,
         [&] {
             char target[256];
             std::string link = "/proc/" + std::to_string(agent) + "/root";
             return err(readlink(link.c_str(), target, sizeof target));
         }},
        {"no_new_privs", 0, [] { return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : -1; }},
        {"ids", 0,
         [&] {
             uid_t r, e, sv;
             gid_t gr, ge, gs;
             getresuid(&r, &e, &sv);
             getresgid(&gr, &ge, &gs);
             bool ok = r == user && e == user && sv == user && gr == group && ge == group && gs == group;
             return ok && (user == 0 && group == 0 ? true : getgroups(0, nullptr) == 0) ? 0 : -1;
         }},
        {"capabilities", 0,
         [&] {
             for (int cap : DROPPED_CAPABILITIES) {
                 if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0 || capability_held(cap))
                     return -cap - 100;
             }
             // A root workload keeps the rest (CAP_CHOWN, CAP_SETUID), a user none.
             return capability_held(0) == root && capability_held(7) == root ? 0 : -1;
         }},
    };
    return try_all(attempts);
}

// What the "agent" checks before and after the workload: its own view is unchanged.
std::string agent_view(const StandIns& s, const char* when)
{
    std::vector<Attempt> attempts{
        {"agent opens the report device", 0, [&] { return open_errno(s.at("/dev/sev-guest"), O_RDWR); }},
        {"agent sees configfs-tsm", 0,
         [&] { return open_errno(s.at("/sys/kernel/config/tsm/report"), O_RDONLY | O_DIRECTORY); }},
        {"agent reads fw_cfg", 0, [&] { return open_errno(s.at("/sys/firmware/qemu_fw_cfg/key"), O_RDONLY); }},
        {"agent may write core_pattern", 0,
         [&] { return open_errno(s.at("/proc_sys/kernel/core_pattern"), O_WRONLY); }},
    };
    std::string report = try_all(attempts);
    std::string out;
    for (size_t at = 0, end; at < report.size(); at = end + 1) {
        end = report.find('\n', at);
        out += report.substr(at, end - at) + " (" + when + ")\n";
    }
    return out;
}

// The "agent": a private mount namespace, the stand-ins, one confined child per identity (run
// in-process), one started by start_workload. Writes its report to `out`.
int run_agent(int out, const std::string& t)
{
    StandIns s{t};
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        !make_stand_ins(s)) {
        write_all(out, "FAIL setting up the stand-ins: " + std::string(strerror(errno)) + "\n");
        return 1;
    }
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // as stage early makes PID 1
    std::string report = agent_view(s, "before");
    pid_t self = getpid();
    for (auto [user, group] : {std::pair<uint32_t, uint32_t>{0, 0}, {USER, GROUP}}) {
        int link[2];
        if (pipe(link) != 0)
            return 1;
        pid_t pid = fork();
        if (pid == 0) {
            close(link[0]);
            Confinement c = s.confinement(user, group);
            if (auto failed = run_confinement(confinement_plan(c), c)) {
                write_all(link[1],
                          "FAIL confinement: " + std::string(failed->what) + ": " + strerror(failed->error) + "\n");
                _exit(1);
            }
            write_all(link[1], attempts_inside(s, self, user, group));
            _exit(0);
        }
        close(link[1]);
        std::string inside = read_all(link[0]);
        close(link[0]);
        waitpid(pid, nullptr, 0);
        std::string tag = " (uid " + std::to_string(user) + ")\n";
        for (size_t at = 0, end; at < inside.size(); at = end + 1) {
            end = inside.find('\n', at);
            report += inside.substr(at, end - at) + tag;
        }
    }
    // After execve: the kernel's own account of the started program.
    for (auto [user, group] : {std::pair<uint32_t, uint32_t>{0, 0}, {USER, GROUP}}) {
        std::string status_file = s.at("/work/status-") + std::to_string(user);
        Workload w{
            {"/bin/sh", "-c", "cat /proc/self/status > " + status_file}, {}, STDERR_FILENO, s.confinement(user, group)};
        auto pid = start_workload(w, {});
        if (!pid) {
            report += "FAIL start_workload: " + std::string(pid.error().message()) + "\n";
            continue;
        }
        waitpid(pid.value(), nullptr, 0);
        auto status = read_text_file(status_file, 64 * 1024);
        report += "status " + std::to_string(user) + "\n" + (status ? status.value() : "missing\n") + "end\n";
    }
    report += agent_view(s, "after");
    write_all(out, report);
    return 0;
}

std::string field(const std::string& status, const char* name)
{
    size_t at = status.find(std::string("\n") + name + ":");
    if (at == std::string::npos)
        return "?";
    at = status.find_first_not_of(" \t", at + strlen(name) + 2);
    return status.substr(at, status.find('\n', at) - at);
}

std::string section(const std::string& report, const std::string& name)
{
    size_t at = report.find(name + "\n");
    if (at == std::string::npos)
        return "";
    at += name.size();
    return report.substr(at, report.find("\nend\n", at) - at);
}

uint64_t hex(const std::string& s)
{
    return strtoull(s.c_str(), nullptr, 16);
}

}  // namespace

TEST_CASE("confine: a confined child cannot reach the report device; the agent still can")
{
    if (!may_make_mount_namespaces()) {
        MESSAGE("skipped: this test must run as root where unshare(CLONE_NEWNS) is allowed; the confinement is "
                "untested in this run");
        std::exit(SKIP);
    }
    std::string t = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/cvm_confine_XXXXXX";
    REQUIRE(mkdtemp(t.data()));
    int link[2];
    REQUIRE(pipe(link) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(link[0]);
        _exit(run_agent(link[1], t));
    }
    close(link[1]);
    std::string report = read_all(link[0]);
    close(link[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    rmdir(t.c_str());
    CAPTURE(report);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(report.find("FAIL") == std::string::npos);
    // 4 agent views twice, 18 attempts for each of the two identities: none left out.
    size_t oks = 0;
    for (size_t at = report.find("ok "); at != std::string::npos; at = report.find("\nok ", at + 1))
        ++oks;
    CHECK(oks == 4 * 2 + 18 * 2);

    uint64_t dropped = 0;
    for (int cap : DROPPED_CAPABILITIES)
        dropped |= uint64_t{1} << cap;
    uint64_t ours = hex(field(read_text_file("/proc/self/status", 64 * 1024).value(), "CapBnd"));
    std::string root = section(report, "status 0");
    CHECK(hex(field(root, "CapBnd")) == (ours & ~dropped));
    CHECK(hex(field(root, "CapEff")) == (ours & ~dropped));  // a root execve: the bounding set
    CHECK(hex(field(root, "CapPrm")) == (ours & ~dropped));
    CHECK(hex(field(root, "CapInh")) == 0);
    CHECK(hex(field(root, "CapAmb")) == 0);
    CHECK(field(root, "NoNewPrivs") == "1");
    CHECK(field(root, "Uid") == "0\t0\t0\t0");
    std::string user = section(report, "status " + std::to_string(USER));
    CHECK(hex(field(user, "CapBnd")) == (ours & ~dropped));
    CHECK(field(user, "CapEff") == "0000000000000000");
    CHECK(field(user, "CapPrm") == "0000000000000000");
    CHECK(field(user, "NoNewPrivs") == "1");
    CHECK(field(user, "Uid") == "1234\t1234\t1234\t1234");
    CHECK(field(user, "Gid") == "5678\t5678\t5678\t5678");
    CHECK(field(user, "Groups") == "");
}
