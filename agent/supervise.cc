#include "supervise.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace cvm::agent {
namespace {

// In the child only: the environment strings, then execve. Never returns.
[[noreturn]] void exec_workload(const Workload& w, const proto::Release& release)
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
    execve(argv[0], argv.data(), envp.data());
    int saved = errno;
    dprintf(w.stdio_fd, "cvminit: FATAL handoff: failed to execute %s: %s (exec) — check workload.command\n", argv[0],
            strerror(saved));
    _exit(127);
}

}  // namespace

Result<pid_t> start_workload(const Workload& workload, const proto::Release& release)
{
    if (workload.argv.empty() || workload.argv[0].empty() || workload.argv[0][0] != '/')
        return Error::make(Errc::Config, "the workload command must be an absolute path");
    pid_t pid = fork();
    if (pid < 0)
        return Error::from_errno(Errc::Io, errno, "failed to fork the workload: %s", strerror(errno));
    if (pid == 0)
        exec_workload(workload, release);
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
