#include "workload_check.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "initramfs/exec_format.h"

namespace cvm::agent {

namespace {

constexpr size_t MAX_HEAD_BYTES = 1 << 20;
constexpr int MAX_DEPTH = 5;  // fs/exec.c: search_binary_handler()'s nesting limit

ExecProblem problem(int err, const std::string& what, std::string hint)
{
    return {Error::from_errno(Errc::Io, err, "cannot execute %s: %s", what.c_str(), strerror(err)), std::move(hint)};
}

}  // namespace

std::optional<ExecProblem> check_executable(const std::string& root, const std::string& command)
{
    std::string path = command;
    std::string label = "the workload command " + command;
    for (int depth = 0; depth < MAX_DEPTH; ++depth) {
        struct stat st {};
        if (stat((root + path).c_str(), &st) != 0) {
            int err = errno;
            if (depth == 0)
                return problem(err, label,
                               label + " is missing from the root: check [workload] command in /etc/cvminit.toml "
                                       "(or cvminit.workload) and the tree given to cvm initramfs --root");
            return problem(err, label,
                           label + " is missing from the root: add it to the workload's tree, or change the " +
                               (depth == 1 ? "first line of " + command : "interpreter line"));
        }
        if (!S_ISREG(st.st_mode))
            return problem(EACCES, label, label + " is not a regular file");
        if (access((root + path).c_str(), X_OK) != 0)
            return problem(errno, label, label + " is not executable: set its execute bit in the workload's tree");
        auto head = initramfs::read_head(root + path, MAX_HEAD_BYTES);
        if (!head)
            return problem(head.error().errno_value() ? head.error().errno_value() : EIO, label,
                           label + " cannot be read");
        auto interpreter = initramfs::interpreter_of(head.value());
        if (!interpreter)
            return problem(ENOEXEC, label, label + ": " + std::string(interpreter.error().message()));
        if (!interpreter->has_value())
            return std::nullopt;
        label = "interpreter " + interpreter.value().value() + " of " + path;
        path = interpreter.value().value();
    }
    return problem(ELOOP, label, "interpreters of " + command + " nest deeper than the kernel allows");
}

}  // namespace cvm::agent
