#include "initramfs/checks.h"

#include <cerrno>

#include "base/file.h"
#include "initramfs/exec_format.h"

namespace cvm::initramfs {

namespace {

constexpr size_t MAX_AGENT_BYTES = 256 << 20;
constexpr int MAX_SYMLINK_HOPS = 40;  // the kernel's MAXSYMLINKS

// A path below `root` in the archive, as the workload sees it after switch_root: absolute
// symlink targets start again at `root`.
struct Resolved {
    std::string archive_path;  // normalised, for Archive::find
    Archive::Found entry;
};

std::string join(const std::string& a, const std::string& b)
{
    return a.empty() ? b : b.empty() ? a : a + "/" + b;
}

Result<std::optional<Resolved>> resolve(const Archive& archive, const std::string& root, const std::string& path)
{
    std::vector<std::string> pending;  // components left, last first
    auto push = [&](const std::string& p) {
        std::vector<std::string> parts;
        for (size_t at = 0; at <= p.size();) {
            size_t end = std::min(p.find('/', at), p.size());
            if (end > at)
                parts.push_back(p.substr(at, end - at));
            at = end + 1;
        }
        pending.insert(pending.end(), parts.rbegin(), parts.rend());
    };
    std::string current;  // relative to root, normalised
    push(path);
    int hops = 0;
    std::optional<Archive::Found> found = Archive::Found{};
    while (!pending.empty()) {
        std::string part = pending.back();
        pending.pop_back();
        if (part == ".")
            continue;
        if (part == "..") {
            current = current.rfind('/') == std::string::npos ? "" : current.substr(0, current.rfind('/'));
            continue;
        }
        std::string next = join(current, part);
        found = archive.find(join(root, next));
        if (!found)
            return std::optional<Resolved>();
        if (found->type == EntryType::Symlink) {
            if (++hops > MAX_SYMLINK_HOPS)
                return Error::make(Errc::Config, "/%s: more than %d symlinks (a loop?)", next.c_str(),
                                   MAX_SYMLINK_HOPS);
            if (!found->target.empty() && found->target[0] == '/')
                current.clear();
            push(found->target);
            continue;
        }
        if (found->type != EntryType::Directory && !pending.empty())
            return std::optional<Resolved>();  // a file used as a directory: ENOTDIR, i.e. missing
        current = next;
    }
    return std::optional<Resolved>(Resolved{join(root, current), *found});
}

std::string label_of(const ExecStep& step)
{
    return exec_step_label(step, "[workload] command");
}

// `path` must be an executable file below `root`; returns where it is in the archive.
Result<std::string> executable_file(const Archive& archive, const std::string& root, const std::string& path,
                                    const std::string& label)
{
    auto resolved = TRY_PREFIX(resolve(archive, root, path), "%s", label.c_str());
    std::string where = "/" + root + " (the workload's root)";
    if (!resolved)
        return Error::make(Errc::Config, "%s is missing from the initramfs below %s: expected it in --root or a --file",
                           label.c_str(), where.c_str());
    if (resolved->entry.type != EntryType::File)
        return Error::make(Errc::Config, "%s is a directory below %s: expected an executable file", label.c_str(),
                           where.c_str());
    if ((resolved->entry.mode & 0111) == 0)
        return Error::make(Errc::Config, "%s has mode %04o: expected an executable file (set its execute bit)",
                           label.c_str(), resolved->entry.mode & 07777);
    return resolved->archive_path;
}

}  // namespace

Result<void> check_agent(const std::string& path, std::vector<std::string>& warnings)
{
    Bytes file = TRY_PREFIX(read_file(path, MAX_AGENT_BYTES), "--agent");
    if (!is_elf(file))
        return Error::make(Errc::Config, "--agent %s: not an ELF file: expected the static x86-64 cvminit binary",
                           path.c_str());
    ElfInfo elf = TRY_PREFIX(parse_elf(file), "--agent %s", path.c_str());
    if (elf.machine != ELF_EM_X86_64)
        return Error::make(Errc::Config, "--agent %s: e_machine %u: expected %u (x86-64)", path.c_str(), elf.machine,
                           ELF_EM_X86_64);
    if (elf.type != ELF_ET_EXEC && elf.type != ELF_ET_DYN)
        return Error::make(Errc::Config, "--agent %s: e_type %u: expected an executable (2 or 3)", path.c_str(),
                           elf.type);
    if (elf.interpreter)
        return Error::make(Errc::Config,
                           "--agent %s: dynamically linked (PT_INTERP %s): expected a static binary, the initramfs "
                           "has no loader",
                           path.c_str(), elf.interpreter->c_str());
    if (elf.needed != 0)
        return Error::make(Errc::Config, "--agent %s: needs %zu shared libraries (DT_NEEDED): expected a static binary",
                           path.c_str(), elf.needed);
    bool marked = false;
    for (const ElfNote& note : elf.notes)
        marked = marked || (note.name == CVMINIT_NOTE_NAME && note.type == CVMINIT_NOTE_TYPE);
    if (!marked)
        warnings.push_back("--agent " + path +
                           " is a static x86-64 executable without the cvminit note: is it really cvminit?");
    return {};
}

Result<cmdline::AgentFileConfig> check_config(const std::string& path)
{
    std::string text = TRY_PREFIX(read_text_file(path, cmdline::MAX_AGENT_TOML_SIZE + 1), "--config");
    return TRY_PREFIX(cmdline::parse_agent_toml(text), "--config %s", path.c_str());
}

Result<void> check_workload(const Archive& archive, const cmdline::AgentFileConfig& config,
                            std::vector<std::string>& warnings)
{
    if (config.command.empty())
        return {};
    std::string root = TRY(normalize_path(config.root));
    auto top = archive.find(root);
    if (!top || top->type != EntryType::Directory) {
        warnings.push_back("[workload] command " + config.command[0] + " not checked: the initramfs has nothing at " +
                           config.root + " (a verity root must then carry the workload)");
        return {};
    }
    ExecChain chain = walk_exec_chain(config.command[0], [&](const ExecStep& step) -> Result<Bytes> {
        std::string at = TRY(executable_file(archive, root, step.path, label_of(step)));
        return archive.read_head(at, MAX_EXEC_HEAD_BYTES);
    });
    if (!chain.error)
        return {};
    if (chain.error->code() == Errc::Config)
        return *chain.error;
    // interpreter_of()'s refusal of the last file, or too many "#!" rewrites for the command.
    const ExecStep& named = chain.error->errno_value() == ELOOP ? chain.steps.front() : chain.steps.back();
    return Error::make(Errc::Config, "%s: %s", label_of(named).c_str(), std::string(chain.error->message()).c_str());
}

}  // namespace cvm::initramfs
