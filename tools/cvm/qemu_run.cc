// run_relayed: QEMU on a pipe, its console copied to our stdout and read for the agent's outcome.
#include "qemu_run.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace cvm::cli {
namespace {

volatile sig_atomic_t g_qemu = 0;
volatile sig_atomic_t g_forwarded = 0;

void forward_signal(int signal)
{
    g_forwarded = signal;
    if (g_qemu > 0)
        kill(static_cast<pid_t>(g_qemu), signal);
}

bool write_all(int fd, const char* data, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

Result<Relayed> run_relayed(const std::vector<std::string>& argv, LaunchOutcome& outcome)
{
    // Built before fork: the child of a threaded process (cvm demo's broker) must not allocate.
    std::vector<char*> exec_argv;
    for (const std::string& a : argv)
        exec_argv.push_back(const_cast<char*>(a.c_str()));
    exec_argv.push_back(nullptr);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot make the console pipe: %s", strerror(errno));
    // SIGINT and SIGTERM stay blocked until QEMU's pid is known, and again around its reaping, so
    // the handler never signals a pid that is not (or no longer) QEMU's; one that arrives meanwhile
    // is delivered when unblocked.
    sigset_t forwarded, old_mask;
    sigemptyset(&forwarded);
    sigaddset(&forwarded, SIGINT);
    sigaddset(&forwarded, SIGTERM);
    sigprocmask(SIG_BLOCK, &forwarded, &old_mask);
    g_forwarded = 0;
    struct sigaction forward {};
    forward.sa_handler = forward_signal;
    sigemptyset(&forward.sa_mask);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction old_int {
    }, old_term{}, old_pipe{};
    sigaction(SIGINT, &forward, &old_int);
    sigaction(SIGTERM, &forward, &old_term);
    sigaction(SIGPIPE, &ignore, &old_pipe);  // a closed stdout must not stop the relay QEMU waits on
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old_mask, nullptr);
        dup2(fds[1], STDOUT_FILENO);
        execvp(exec_argv[0], exec_argv.data());
        dprintf(STDERR_FILENO, "cvm: cannot run %s: %s\n", exec_argv[0], strerror(errno));
        _exit(127);
    }
    int saved = errno;
    if (pid > 0)
        g_qemu = pid;
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    close(fds[1]);
    if (pid > 0) {
        char buf[4096];
        bool relaying = true;
        for (;;) {
            ssize_t n = read(fds[0], buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            if (relaying)
                relaying = write_all(STDOUT_FILENO, buf, static_cast<size_t>(n));
            outcome.feed(buf, static_cast<size_t>(n));
        }
        outcome.finish();
    }
    close(fds[0]);
    siginfo_t info{};
    while (pid > 0 && waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
    sigprocmask(SIG_BLOCK, &forwarded, nullptr);  // QEMU is a zombie: its pid is still its own
    g_qemu = 0;
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    sigaction(SIGPIPE, &old_pipe, nullptr);
    int signal_forwarded = g_forwarded;
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    if (pid < 0)
        return Error::from_errno(Errc::Io, saved, "cannot fork QEMU: %s", strerror(saved));
    return Relayed{status, signal_forwarded};
}

std::string describe_wait(int status)
{
    if (WIFEXITED(status))
        return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "signal " + std::to_string(WTERMSIG(status));
    return "wait status " + std::to_string(status);
}

}  // namespace cvm::cli
