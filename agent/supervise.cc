#include "supervise.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>

namespace cvm::agent {
namespace {

// In the child only: the environment strings, the confinement, then execve. Never returns; a
// failure goes to `report_fd` (close-on-exec, so the parent reads end-of-file once execve worked).
[[noreturn]] void exec_workload(const Workload& w, const proto::Release& release, int report_fd)
{
    std::vector<std::string> env;
    for (const auto& [name, value] : w.env)
        env.push_back(name + "=" + value);
    for (const proto::ReleasedSecret& s : release.secrets) {
        if (s.env) {
            ByteView v = s.value.expose();
            env.push_back(*s.env + "=" + std::string(reinterpret_cast<const char*>(v.data()), v.size()));
        }
    }
    std::vector<char*> envp, argv;
    for (std::string& e : env)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    for (const std::string& a : w.argv)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    // Default dispositions before the unblock: a signal that arrives before execve must not run
    // a handler of the parent's (execve resets them, but only once it has happened).
    for (int sig = 1; sig < NSIG; ++sig)
        signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    setsid();
    if (w.stdio_fd != STDIN_FILENO)
        dup2(w.stdio_fd, STDIN_FILENO);
    dup2(w.stdio_fd, STDOUT_FILENO);
    dup2(w.stdio_fd, STDERR_FILENO);
    std::optional<StepFailure> failed = run_confinement(confinement_plan(w.confinement), w.confinement);
    if (!failed) {
        execve(argv[0], argv.data(), envp.data());
        failed = StepFailure{errno, {}};
        snprintf(failed->what, sizeof failed->what, "execute %s", argv[0]);
    }
    ssize_t ignored = write(report_fd, &*failed, sizeof *failed);  // the parent's read fails if short
    (void)ignored;
    _exit(127);
}

// The child's report: end-of-file when execve succeeded, else its StepFailure.
Result<void> child_outcome(int report_fd, pid_t pid)
{
    StepFailure failed;
    ssize_t n;
    do
        n = read(report_fd, &failed, sizeof failed);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return {};
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (n != static_cast<ssize_t>(sizeof failed))
        return Error::make(Errc::Io, "the workload's child process ended before execve without saying why (%s)",
                           describe_status(status).c_str());
    failed.what[sizeof failed.what - 1] = '\0';
    if (failed.error == 0)
        return Error::make(Errc::Io, "failed to %s for the workload", failed.what);
    return Error::from_errno(Errc::Io, failed.error, "failed to %s for the workload: %s", failed.what,
                             strerror(failed.error));
}

}  // namespace

Result<pid_t> start_workload(const Workload& workload, const proto::Release& release)
{
    if (workload.argv.empty() || workload.argv[0].empty() || workload.argv[0][0] != '/')
        return Error::make(Errc::Config, "the workload command must be an absolute path");
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to make the workload's report pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(report[0]);
        close(report[1]);
        return Error::from_errno(Errc::Io, saved, "failed to fork the workload: %s", strerror(saved));
    }
    if (pid == 0) {
        close(report[0]);
        exec_workload(workload, release, report[1]);
    }
    close(report[1]);
    Result<void> outcome = child_outcome(report[0], pid);
    close(report[0]);
    if (!outcome)
        return outcome.error();
    return pid;
}

int supervise(pid_t child)
{
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGCHLD);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGINT);
    for (;;) {
        // Reap whatever has ended: the workload, or orphans re-parented to PID 1.
        for (;;) {
            int status = 0;
            pid_t done = waitpid(-1, &status, WNOHANG);
            if (done == child)
                return status;
            if (done <= 0)
                break;
        }
        siginfo_t info{};
        if (sigwaitinfo(&wanted, &info) < 0)
            continue;
        if (info.si_signo == SIGTERM || info.si_signo == SIGINT)
            kill(child, info.si_signo);
    }
}

std::string describe_status(int status)
{
    if (WIFEXITED(status))
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return "ended with wait status " + std::to_string(status);
}

}  // namespace cvm::agent
