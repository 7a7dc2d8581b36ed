// Stage 7, secrets: each released secret becomes one file in the secrets directory (default
// /run/secrets, on the tmpfs /run): the directory 0700, each file 0400, owned by root or by
// workload.user/group when set, written to a temporary name and renamed so the workload never
// sees a partial file. Values never reach the console: the summary names the files only. Secrets marked with an env
// name are also kept for the workload's environment (handoff), never the agent's own.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file.h"
#include "stages.h"

namespace cvm::agent {
namespace {

// The workload's user owns its secrets; root's stay root's without a chown.
Result<void> give_to(const std::string& path, uint32_t uid, uint32_t gid)
{
    if ((uid != 0 || gid != 0) && lchown(path.c_str(), uid, gid) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to give %s to uid %u gid %u: %s", path.c_str(), uid, gid,
                                 strerror(errno));
    return {};
}

}  // namespace

Result<std::string> write_secrets(const std::string& dir, const proto::Release& release, uint32_t owner_uid,
                                  uint32_t owner_gid)
{
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return Error::from_errno(Errc::Io, errno, "failed to create %s: %s", dir.c_str(), strerror(errno));
    // An existing directory (a second boot stage, or a hostile initramfs tree) gets our mode.
    if (chmod(dir.c_str(), 0700) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to set mode 0700 on %s: %s", dir.c_str(), strerror(errno));
    TRY(give_to(dir, owner_uid, owner_gid));
    std::string names;
    for (const proto::ReleasedSecret& s : release.secrets) {
        TRY_PREFIX(write_file_atomic(dir + "/" + s.name, s.value.expose(), 0400), "secret '%s'", s.name.c_str());
        TRY(give_to(dir + "/" + s.name, owner_uid, owner_gid));
        names += (names.empty() ? "" : ", ") + s.name + (s.env ? " (+env " + *s.env + ")" : "");
    }
    return std::to_string(release.secrets.size()) + " in " + dir + (names.empty() ? "" : ": " + names);
}

Result<std::string> stage_secrets(Context& ctx)
{
    if (!ctx.release)
        return Error::make(Errc::Config, "no release to write (retrieve did not run)");
    return write_secrets(ctx.root + ctx.secrets_dir, *ctx.release, ctx.workload_user, ctx.workload_group);
}

}  // namespace cvm::agent
