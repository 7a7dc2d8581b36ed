// start_workload() with a confinement, run for real as root: a failing step is the caller's
// error before anything runs, and the demo workload's --probe-isolation, confined with a guest's
// own paths (this host's /sys, /proc/sys and /tmp, in the child's namespace only), is refused
// every time. Exits 77 (skipped) where this process may not make a mount namespace.
#include <doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>

#include "confine.h"
#include "confine_fixture.h"
#include "supervise.h"

using namespace cvm;
using namespace cvm::agent;
using cvm::test::SKIP;

TEST_CASE("confine: a step that fails is named with its errno, and the workload never runs")
{
    if (!test::may_make_mount_namespaces())
        std::exit(SKIP);
    std::string marker = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/cvm_confine_ran_XXXXXX";
    REQUIRE(mkdtemp(marker.data()));
    REQUIRE(rmdir(marker.c_str()) == 0);
    Confinement c;
    c.paths.staging = "/nonexistent-staging-dir";  // every earlier step works here, this one cannot
    c.paths.devices = {};
    c.paths.hidden_dirs = {};
    c.paths.read_only = {};
    auto pid = start_workload({{"/bin/mkdir", marker}, {}, STDERR_FILENO, c}, {});
    REQUIRE_FALSE(pid.ok());
    CHECK(pid.error().errno_value() == ENOENT);
    CHECK(std::string(pid.error().message()) ==
          "failed to mount the masks' tmpfs on /nonexistent-staging-dir for the workload: No such file or directory");
    struct stat st {};
    CHECK(stat(marker.c_str(), &st) != 0);  // never executed
}

TEST_CASE("confine: the demo workload's --probe-isolation, confined with a guest's paths, is refused every time")
{
    if (!test::may_make_mount_namespaces())
        std::exit(SKIP);
    // meson test sets it; run by hand, the build tree's layout finds it.
    std::string probe = getenv("CVM_DEMO_WORKLOAD") ? getenv("CVM_DEMO_WORKLOAD") : "";
    if (probe.empty()) {
        char self[4096] = "";
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        REQUIRE(n > 0);
        std::string exe(self, static_cast<size_t>(n));
        probe = exe.substr(0, exe.rfind("/tests/unit/agent/")) + "/tools/demo-workload/cvminit-demo-workload";
    }
    CAPTURE(probe);
    REQUIRE(access(probe.c_str(), X_OK) == 0);
    char out_path[] = "/tmp/cvm_probe_out_XXXXXX";
    int out = mkstemp(out_path);
    REQUIRE(out >= 0);
    unlink(out_path);
    // The default paths: this host's own /sys, /proc/sys and /tmp, in the child's namespace only.
    auto pid = start_workload({{probe, "--probe-isolation"}, {}, out, Confinement{}}, {});
    REQUIRE(pid.ok());
    int status = 0;
    REQUIRE(waitpid(pid.value(), &status, 0) == pid.value());
    lseek(out, 0, SEEK_SET);
    std::string output = test::read_all(out);
    close(out);
    CAPTURE(output);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(output.find("isolation: 8 of 8 attempts refused\n") != std::string::npos);
    CHECK(output.find("ALLOWED") == std::string::npos);
    // Refused by the confinement itself here (this host has no report device or configfs).
    CHECK(output.find(": refused (EPERM 1") != std::string::npos);
    CHECK(output.find("mknod /tmp/probe-sev-guest c 10:124: refused (EPERM") != std::string::npos);
    CHECK(output.find("mount -t configfs on /tmp/probe-configfs: refused (EPERM") != std::string::npos);
    CHECK(output.find("open_by_handle_at of /tmp: refused (EPERM") != std::string::npos);
    CHECK(output.find("open /proc/sys/kernel/core_pattern for writing: refused (EROFS") != std::string::npos);
    // And the host's own /proc/sys is as writable as before.
    int fd = open("/proc/sys/kernel/core_pattern", O_WRONLY);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
}

TEST_CASE("confine: a workload user gets the agent API's group as its one supplementary group")
{
    if (!test::may_make_mount_namespaces())
        std::exit(SKIP);
    // What /proc/self/status says of the workload's groups, for a user, a group and [agent_api] group.
    auto groups_of = [](std::optional<uint32_t> api_group) {
        char out_path[] = "/tmp/cvm_groups_out_XXXXXX";
        int out = mkstemp(out_path);
        REQUIRE(out >= 0);
        unlink(out_path);
        Confinement c{cmdline::Isolation::Off, 1234, 5678, {}, api_group};
        auto pid = start_workload({{"/bin/cat", "/proc/self/status"}, {}, out, c}, {});
        REQUIRE(pid.ok());
        int status = 0;
        REQUIRE(waitpid(pid.value(), &status, 0) == pid.value());
        CHECK(WIFEXITED(status));
        lseek(out, 0, SEEK_SET);
        std::string text = test::read_all(out);
        close(out);
        size_t at = text.find("\nGroups:");
        REQUIRE(at != std::string::npos);
        return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
    };
    CHECK(groups_of(std::nullopt) == "Groups:\t ");  // fs/proc/array.c ends the list with a space
    CHECK(groups_of(4242) == "Groups:\t4242 ");
    CHECK(groups_of(5678) == "Groups:\t ");  // the workload's own group already
    Confinement root;
    root.api_group = 4242;
    CHECK_FALSE(api_supplementary(root));  // root stays as it is: it owns the socket
}
