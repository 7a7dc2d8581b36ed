// The outcome of a boot, read from the guest's serial console as `cvm launch` relays it: the
// agent's final line decides it.
//
//   cvminit: workload <path> exited with status N; powering off       agent/stage_handoff.cc,
//   cvminit: workload <path> killed by signal N (<name>); powering off agent/supervise.cc
//                                                                     describe_status()
//   cvminit: FATAL <stage>: <what> (<code>) — <hint>                 agent/fatal.cc fatal()
//
// Lines end in LF or CR LF (the serial console writes CR LF). The agent's text starts at the last
// "cvminit: " of a line, so a workload output without a final line end does not hide it. When several such lines appear
// (a workload that could not be executed prints its FATAL line from the child, and the agent then reports the child's
// exit status 127), the last one counts.
#pragma once

#include <cstddef>
#include <string>

namespace cvm::cli {

// cvm launch's exit statuses besides the workload's own (0..255; 128 + N when it was killed by
// signal N) and 2 (usage or input error before QEMU started).
inline constexpr int LAUNCH_EXIT_FATAL = 125;       // the agent's FATAL line: the workload never ran
inline constexpr int LAUNCH_EXIT_NO_OUTCOME = 126;  // QEMU ended without the agent's final line
static_assert(LAUNCH_EXIT_FATAL != LAUNCH_EXIT_NO_OUTCOME);

class LaunchOutcome {
public:
    enum class Kind { None, Workload, Fatal };

    // Consumes console bytes in any split.
    void feed(const char* data, size_t size);
    // The console ended: a last line without its newline counts too.
    void finish();

    Kind kind() const { return m_kind; }
    // The workload's status (Kind::Workload), as a shell reports it.
    int workload_status() const { return m_status; }
    // The deciding line, without its line end.
    const std::string& line() const { return m_line; }
    // cvm launch's exit status: workload_status(), LAUNCH_EXIT_FATAL or LAUNCH_EXIT_NO_OUTCOME.
    int exit_status() const;

private:
    void end_line();

    // A longer console line is not one of the agent's: only its start is kept.
    static constexpr size_t MAX_LINE = 4096;
    std::string m_pending;
    Kind m_kind{Kind::None};
    int m_status{0};
    std::string m_line;
};

}  // namespace cvm::cli
