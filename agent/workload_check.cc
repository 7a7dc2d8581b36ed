#include "workload_check.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "initramfs/exec_format.h"

namespace cvm::agent {

namespace {

using initramfs::ExecStep;
using initramfs::ExecVia;

ExecProblem problem(int err, const std::string& what, std::string hint)
{
    return {Error::from_errno(Errc::Io, err, "cannot execute %s: %s", what.c_str(), strerror(err)), std::move(hint)};
}

std::string label_of(const ExecStep& step)
{
    return exec_step_label(step, "the workload command");
}

// What to do about a missing file: where it was named decides.
std::string missing_hint(const ExecStep& step)
{
    std::string label = label_of(step) + " is missing from the root: ";
    switch (step.via) {
    case ExecVia::Command:
        return label + "check [workload] command in /etc/cvminit.toml (or cvminit.workload) and the tree given to "
                       "cvm initramfs --root";
    case ExecVia::Script: return label + "add it to the workload's tree, or change the \"#!\" line of " + step.named_by;
    case ExecVia::Loader: break;
    }
    return label + "install the loader " + step.path + " in the root, or link " + step.named_by + " statically";
}

}  // namespace

std::optional<ExecProblem> check_executable(const std::string& root, const std::string& command)
{
    std::optional<ExecProblem> found;  // set by the lookup for the file it could not use
    auto lookup = [&](const ExecStep& step) -> Result<Bytes> {
        std::string label = label_of(step);
        std::string path = root + step.path;
        struct stat st {};
        if (stat(path.c_str(), &st) != 0) {
            found = problem(errno, label, missing_hint(step));
        } else if (!S_ISREG(st.st_mode)) {
            found = problem(EACCES, label, label + " is not a regular file");
        } else if (access(path.c_str(), X_OK) != 0) {
            found = problem(errno, label, label + " is not executable: set its execute bit in the workload's tree");
        } else {
            auto head = initramfs::read_head(path, initramfs::MAX_EXEC_HEAD_BYTES);
            if (head)
                return head;
            found = problem(head.error().errno_value() ? head.error().errno_value() : EIO, label,
                            label + " cannot be read");
        }
        return found->error;
    };
    initramfs::ExecChain chain = initramfs::walk_exec_chain(command, lookup);
    if (!chain.error || found)
        return found;
    int err = chain.error->errno_value() ? chain.error->errno_value() : ENOEXEC;
    if (err == ELOOP)
        return problem(err, label_of(chain.steps.front()),
                       "the \"#!\" interpreters of " + command + " nest deeper than the kernel allows (" +
                           std::to_string(initramfs::MAX_SCRIPT_REWRITES) + ")");
    std::string label = label_of(chain.steps.back());
    return problem(err, label, label + ": " + std::string(chain.error->message()));
}

std::optional<ExecProblem> make_root_dir(const std::string& root, const std::string& name, mode_t mode)
{
    std::string dir = root + "/" + name;
    if (mkdir(dir.c_str(), mode) == 0 || errno == EEXIST)
        return std::nullopt;
    int err = errno;
    std::string hint = err == EROFS ? "the workload's root has no /" + name + " and is read-only: add an empty /" +
                                          name + " directory to the root image"
                                    : NO_WORKLOAD_TREE_HINT;
    return ExecProblem{Error::from_errno(Errc::Io, err, "failed to create %s: %s", dir.c_str(), strerror(err)),
                       std::move(hint)};
}

}  // namespace cvm::agent
