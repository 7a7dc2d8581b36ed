// The boot's outcome from the agent's final line, as cvm launch reads the relayed console.
#include <doctest.h>

#include <string>

#include "launch_outcome.h"

using namespace cvm::cli;

namespace {

LaunchOutcome read(const std::string& console, size_t chunk = 1 << 20)
{
    LaunchOutcome o;
    for (size_t i = 0; i < console.size(); i += chunk)
        o.feed(console.data() + i, std::min(chunk, console.size() - i));
    o.finish();
    return o;
}

}  // namespace

TEST_CASE("the workload's status, from the agent's line with CR LF, in any split")
{
    const std::string console = "[    1.0] Run /init as init process\r\n"
                                "cvminit: early: mounts (3 ms)\r\n"
                                "demo-workload: hello\r\n"
                                "cvminit: workload /usr/bin/demo-workload exited with status 7; powering off\r\n"
                                "cvminit: storage: closed\r\n"
                                "[    2.0] reboot: Power down\r\n";
    for (size_t chunk : {1, 2, 3, 7, 64, 4096}) {
        CAPTURE(chunk);
        LaunchOutcome o = read(console, chunk);
        CHECK(o.kind() == LaunchOutcome::Kind::Workload);
        CHECK(o.workload_status() == 7);
        CHECK(o.exit_status() == 7);
        CHECK(o.line() == "cvminit: workload /usr/bin/demo-workload exited with status 7; powering off");
    }
    CHECK(read("cvminit: workload /w exited with status 0; powering off\n").exit_status() == 0);
    CHECK(read("cvminit: workload /w exited with status 255; powering off\n").exit_status() == 255);
    // no line end at all: the console ended with the line
    CHECK(read("cvminit: workload /w exited with status 3; powering off").exit_status() == 3);
}

TEST_CASE("a workload killed by a signal: 128 + the signal, as a shell says")
{
    LaunchOutcome o = read("cvminit: workload /w killed by signal 9 (Killed); powering off\r\n");
    CHECK(o.kind() == LaunchOutcome::Kind::Workload);
    CHECK(o.exit_status() == 137);
    CHECK(read("cvminit: workload /w killed by signal 15 (Terminated); powering off\n").exit_status() == 143);
}

TEST_CASE("a FATAL boot and a console without the agent's final line have their own statuses")
{
    LaunchOutcome fatal = read("cvminit: early: mounts (3 ms)\r\ncvminit: FATAL attest: no provider (ENODEV) — "
                               "cvminit.simulate=1\r\n[ 3.0] reboot: Power down\r\n");
    CHECK(fatal.kind() == LaunchOutcome::Kind::Fatal);
    CHECK(fatal.exit_status() == LAUNCH_EXIT_FATAL);
    CHECK(fatal.line() == "cvminit: FATAL attest: no provider (ENODEV) — cvminit.simulate=1");

    LaunchOutcome none =
        read("cvminit: early: mounts (3 ms)\r\nKernel panic - not syncing: Attempted to kill init!\r\n");
    CHECK(none.kind() == LaunchOutcome::Kind::None);
    CHECK(none.exit_status() == LAUNCH_EXIT_NO_OUTCOME);
    CHECK(read("").exit_status() == LAUNCH_EXIT_NO_OUTCOME);
}

TEST_CASE("the agent's final line after a workload's output without a line end still counts")
{
    // One console: the workload printed "partial" with no newline, then the agent's line followed.
    CHECK(read("partial output cvminit: workload /w exited with status 1; powering off\r\n").exit_status() == 1);
    CHECK(read("progress: 50%cvminit: FATAL handoff: x (EIO) — y\r\n").kind() == LaunchOutcome::Kind::Fatal);
    CHECK(read("x cvminit: FATAL handoff: x (EIO) — y\r\n").line() == "cvminit: FATAL handoff: x (EIO) — y");
    // The text from the last "cvminit: " decides: an earlier one on the line is the workload's.
    CHECK(read("cvminit: workload /w exited with status 0; powering off cvminit: workload /w exited with "
               "status 9; powering off\n")
              .exit_status() == 9);
}

TEST_CASE("the last of the agent's final lines counts")
{
    // A workload that cannot be executed: the child's FATAL line, then the agent's report of it.
    LaunchOutcome o = read("cvminit: FATAL handoff: failed to execute /bin/x: No such file (exec) — check\r\n"
                           "cvminit: workload /bin/x exited with status 127; powering off\r\n");
    CHECK(o.exit_status() == 127);
    CHECK(read("cvminit: workload /w exited with status 0; powering off\ncvminit: FATAL handoff: x (EIO) — y\n")
              .exit_status() == LAUNCH_EXIT_FATAL);
}

TEST_CASE("lines that only look like the agent's are not its final line")
{
    for (const char* line : {
             "cvminit: workload /w exited with status 256; powering off",
             "cvminit: workload /w exited with status -1; powering off",
             "cvminit: workload /w exited with status 7x; powering off",
             "cvminit: workload /w exited with status ; powering off",
             "cvminit: workload /w exited with status 7; powering off now",
             "cvminit: workload /w exited with status 7",
             "cvminit: workload /w killed by signal 0 (x); powering off",
             "cvminit: workload /w killed by signal 300 (x); powering off",
             "cvminit: workload /w stopped; powering off",
             "cvminit: FATAL",
         }) {
        CAPTURE(line);
        CHECK(read(std::string(line) + "\r\n").kind() == LaunchOutcome::Kind::None);
    }
    // The path is the workload's: the verdict is its last " exited with status ".
    CHECK(read("cvminit: workload /a exited with status 3/b exited with status 4; powering off\n").exit_status() == 4);
    // An overlong line keeps only its start and cannot end up matching.
    CHECK(read("cvminit: workload /" + std::string(10000, 'a') + " exited with status 5; powering off\n").kind() ==
          LaunchOutcome::Kind::None);
}
