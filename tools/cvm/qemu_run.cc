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

void forward_signal(int signal)
{
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

Result<int> run_relayed(const std::vector<std::string>& argv, LaunchOutcome& outcome)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot make the console pipe: %s", strerror(errno));
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
    // A signal between fork and knowing QEMU's pid waits until it is known.
    sigset_t forwarded, old_mask;
    sigemptyset(&forwarded);
    sigaddset(&forwarded, SIGINT);
    sigaddset(&forwarded, SIGTERM);
    sigprocmask(SIG_BLOCK, &forwarded, &old_mask);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old_mask, nullptr);
        dup2(fds[1], STDOUT_FILENO);
        std::vector<char*> a;
        for (const std::string& s : argv)
            a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        execvp(a[0], a.data());
        dprintf(STDERR_FILENO, "cvm: cannot run %s: %s\n", a[0], strerror(errno));
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
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_qemu = 0;
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    sigaction(SIGPIPE, &old_pipe, nullptr);
    if (pid < 0)
        return Error::from_errno(Errc::Io, saved, "cannot fork QEMU: %s", strerror(saved));
    return status;
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
