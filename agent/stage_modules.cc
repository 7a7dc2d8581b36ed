// Stage 3, modules: load the kernel modules `cvm initramfs` recorded, in the dependency order it
// resolved from modules.dep (/etc/cvminit/modules, one path per line relative to
// /lib/modules/<release>/). finit_module(2) only: no modprobe, no scanning of any disk, so the
// only code that enters the kernel is code the initramfs measurement covers. A failure is judged
// by judge_module_failure() (module_failure.h): sev-guest finding no SEV-SNP device goes on in
// simulation; every other failure is FATAL here, with the hint naming its cause.
#include <dirent.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "base/file.h"
#include "fatal.h"
#include "module_failure.h"
#include "stages.h"

namespace cvm::agent {
namespace {

constexpr const char* MODULE_LIST = "/etc/cvminit/modules";
constexpr unsigned MODULE_INIT_COMPRESSED_FILE = 4;  // include/uapi/linux/module.h (Linux >= 6.2)
constexpr size_t MAX_MODULE_LIST = 64 * 1024;

bool compressed(const std::string& path)
{
    for (const char* suffix : {".xz", ".zst", ".gz"}) {
        size_t n = strlen(suffix);
        if (path.size() > n && path.compare(path.size() - n, n, suffix) == 0)
            return true;
    }
    return false;
}

struct LoadError {
    LoadStep step;
    Error error;
};

std::optional<LoadError> load(const std::string& path)
{
    auto fd = open_for_reading(path);
    if (!fd)
        return LoadError{LoadStep::Open, fd.error()};
    unsigned flags = compressed(path) ? MODULE_INIT_COMPRESSED_FILE : 0;
    if (syscall(SYS_finit_module, fd->get(), "", flags) != 0 && errno != EEXIST)
        return LoadError{LoadStep::Load, Error::from_errno(Errc::Io, errno, "failed to load module %s: %s",
                                                           path.c_str(), strerror(errno))};
    return std::nullopt;
}

ModuleFacts gather_facts(const Context& ctx, const std::string& release)
{
    ModuleFacts facts;
    facts.simulate = ctx.simulate;
    facts.sev_guest_device = access((ctx.root + SEV_GUEST_DEVICE).c_str(), F_OK) == 0;
    facts.release = release;
    if (DIR* dir = opendir((ctx.root + "/lib/modules").c_str())) {
        while (dirent* e = readdir(dir)) {
            if (e->d_name[0] != '.')
                facts.releases.emplace_back(e->d_name);
        }
        closedir(dir);
    }
    return facts;
}

// configfs, where configfs-tsm reports live, is a module in Debian's kernel: once it is loaded
// its mount point exists, and the report provider needs it mounted.
Result<bool> mount_configfs(const std::string& root)
{
    constexpr long CONFIGFS_MAGIC = 0x62656570;  // include/uapi/linux/magic.h
    std::string target = root + "/sys/kernel/config";
    struct statfs fs {};
    if (statfs(target.c_str(), &fs) != 0)
        return false;  // no configfs in this kernel: the ioctl or simulated provider will do
    if (fs.f_type == CONFIGFS_MAGIC)
        return true;
    if (mount("configfs", target.c_str(), "configfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to mount configfs on %s: %s", target.c_str(),
                                 strerror(errno));
    return true;
}

}  // namespace

Result<std::string> stage_modules(Context& ctx)
{
    std::string list_path = ctx.root + MODULE_LIST;
    auto list = read_text_file(list_path, MAX_MODULE_LIST);
    if (!list && list.error().errno_value() == ENOENT) {
        bool configfs = TRY(mount_configfs(ctx.root));
        return std::string("none listed") + (configfs ? ", configfs mounted" : "");
    }
    std::string text = TRY(std::move(list));
    utsname un{};
    uname(&un);
    std::string base = ctx.root + "/lib/modules/" + un.release + "/";
    size_t count = 0;
    std::string notes;
    for (size_t at = 0; at < text.size();) {
        size_t end = text.find('\n', at);
        std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
        at = end == std::string::npos ? text.size() : end + 1;
        if (line.empty())
            continue;
        if (line.find("..") != std::string::npos || line[0] == '/')
            return Error::make(Errc::Format, "%s: module path '%s' leaves /lib/modules", list_path.c_str(),
                               line.c_str());
        if (auto failed = load(base + line)) {
            ModuleVerdict verdict =
                judge_module_failure(line, failed->step, failed->error.errno_value(), gather_facts(ctx, un.release));
            if (verdict.fatal)
                fatal("modules", failed->error, verdict.text.c_str());
            notes += ", " + verdict.text;
            continue;
        }
        ++count;
    }
    bool configfs = TRY(mount_configfs(ctx.root));
    return std::to_string(count) + " loaded for " + un.release + notes + (configfs ? ", configfs mounted" : "");
}

}  // namespace cvm::agent
