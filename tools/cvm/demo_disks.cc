#include "demo_disks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "base/file.h"
#include "demo_files.h"
#include "storage/block_device.h"
#include "storage/verity.h"

extern char** environ;

namespace cvm::cli {
namespace {

namespace verity = storage::verity;

// Fixed identities, so that the same workload gives the same disks on any machine.
constexpr const char* ROOT_UUID = "c5d0a1e2-7b3f-4e6d-9a8c-0d1e2f3a4b5c";  // ext4 UUID and hash seed
constexpr const char* HASH_UUID = "9e8d7c6b-5a49-4382-9716-05f4e3d2c1b0";  // the hash device's
constexpr const char* SALT_HEX = "63766d2064656d6f20726f6f74207665726974792073616c7420000000000001";

// What Debian's /etc/mke2fs.conf gives ext4, written out: the host's own file could differ.
constexpr const char* MKE2FS_CONF = R"([defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384
[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
	default = {
	}
)";

// Every path of the root, parents first; the agent mounts onto the empty directories.
const std::vector<std::string> ROOT_DIRS = {"/data", "/dev", "/proc", "/run", "/sys", "/tmp", "/usr", "/usr/bin"};
constexpr const char* WORKLOAD_PATH = "/usr/bin/demo-workload";

std::string epoch()
{
    const char* e = getenv("SOURCE_DATE_EPOCH");
    bool digits = e && *e && strlen(e) <= 10 && strspn(e, "0123456789") == strlen(e) && atoll(e) > 0;
    return digits ? e : "1";  // E2FSPROGS_FAKE_TIME=0 means "not set" to mke2fs
}

Result<void> write_text(const std::string& path, const std::string& text)
{
    return write_file_atomic(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, 0644);
}

Result<void> write_rootfs(const std::string& dir, const std::string& workload)
{
    remove_tree(dir);
    for (const std::string& d : ROOT_DIRS)
        TRY(make_dirs(dir + d));
    Bytes program = TRY(read_file(workload, 64 << 20));
    return write_file_atomic(dir + WORKLOAD_PATH, program, 0755);
}

// Runs an e2fsprogs tool with its output in work/TOOL.log.
Result<void> run_tool(const std::string& work, const std::string& tool, std::vector<std::string> argv,
                      const std::vector<std::string>& env)
{
    std::string path = find_program(tool);
    if (path.empty())
        return Error::make(Errc::Config,
                           "%s is not installed: the demo's verity root is made with e2fsprogs (apt-get install "
                           "e2fsprogs), or run cvm demo --no-storage",
                           tool.c_str());
    argv.insert(argv.begin(), path);
    std::string log = work + "/" + tool + ".log";
    int status = TRY(run_program(argv, env, log));
    if (status != 0)
        return Error::make(Errc::Io, "%s exited with status %d making the demo's root image (its output: %s)",
                           tool.c_str(), status, log.c_str());
    return {};
}

// mke2fs 1.47.0 takes each inode's times from the source tree, and ctime cannot be set there.
Result<void> fix_inode_times(const std::string& work, const std::string& image, const std::string& when)
{
    std::string script;
    std::vector<std::string> paths = {"/", "/lost+found", WORKLOAD_PATH};
    paths.insert(paths.end(), ROOT_DIRS.begin(), ROOT_DIRS.end());
    for (const std::string& p : paths)
        for (const char* field : {"atime", "ctime", "mtime", "crtime"})
            script += "set_inode_field " + p + " " + field + " " + when + "\n";
    TRY(write_text(work + "/root.debugfs", script));
    return run_tool(work, "debugfs", {"-w", "-f", work + "/root.debugfs", image}, {"E2FSPROGS_FAKE_TIME=" + when});
}

Result<void> make_hash_file(const std::string& path, uint64_t bytes)
{
    unlink(path.c_str());
    UniqueFd fd{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)};
    if (!fd.valid() || ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot create %s: %s", path.c_str(), strerror(errno));
    return {};
}

}  // namespace

std::string find_program(const std::string& name)
{
    if (name.find('/') != std::string::npos)
        return access(name.c_str(), X_OK) == 0 ? name : "";
    const char* path = getenv("PATH");
    std::string dirs = std::string(path ? path : "/usr/bin:/bin") + ":/usr/sbin:/sbin";
    for (size_t at = 0, end; at <= dirs.size(); at = end + 1) {
        end = dirs.find(':', at);
        if (end == std::string::npos)
            end = dirs.size();
        std::string candidate = (end > at ? dirs.substr(at, end - at) : ".") + "/" + name;
        if (access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return "";
}

Result<int> run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                        const std::string& output)
{
    std::string path = find_program(argv.at(0));
    if (path.empty())
        return Error::make(Errc::Config, "%s: not found in $PATH", argv[0].c_str());
    UniqueFd out;
    if (!output.empty()) {
        out.reset(::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!out.valid())
            return Error::from_errno(Errc::Io, errno, "cannot create %s: %s", output.c_str(), strerror(errno));
    }
    // Everything the child needs is made before fork: the broker's threads may hold malloc's lock.
    std::vector<char*> args, envp;
    for (const std::string& s : argv)
        args.push_back(const_cast<char*>(s.c_str()));
    args.push_back(nullptr);
    // An inherited variable that `env` sets is dropped: getenv finds the first of two, and the
    // root image (so the MEASUREMENT) must not depend on the caller's MKE2FS_CONFIG or fake time.
    for (char** e = environ; *e; ++e) {
        std::string_view entry(*e);
        std::string_view name = entry.substr(0, entry.find('='));
        bool overridden = false;
        for (const std::string& s : env)
            overridden =
                overridden || (s.size() > name.size() && s.compare(0, name.size(), name) == 0 && s[name.size()] == '=');
        if (!overridden)
            envp.push_back(*e);
    }
    for (const std::string& s : env)
        envp.push_back(const_cast<char*>(s.c_str()));
    envp.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0)
        return Error::from_errno(Errc::Io, errno, "cannot fork %s: %s", path.c_str(), strerror(errno));
    if (pid == 0) {
        if (out.valid()) {
            dup2(out.get(), STDOUT_FILENO);
            dup2(out.get(), STDERR_FILENO);
        }
        execve(path.c_str(), args.data(), envp.data());
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Result<cmdline::VerityRoot> make_root_disks(const std::string& work, const std::string& workload)
{
    TRY(write_rootfs(work + "/rootfs", workload));
    struct stat st {};
    if (stat(workload.c_str(), &st) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot stat %s: %s", workload.c_str(), strerror(errno));
    uint64_t mib = 8 + 2 * ((static_cast<uint64_t>(st.st_size) >> 20) + 1);
    std::string image = work + "/root.img";
    std::string when = epoch();
    TRY(write_text(work + "/mke2fs.conf", MKE2FS_CONF));
    unlink(image.c_str());
    TRY(run_tool(work, "mke2fs",
                 {"-q", "-F", "-t", "ext4", "-T", "default", "-b", "4096", "-U", ROOT_UUID, "-E",
                  std::string("root_owner=0:0,hash_seed=") + ROOT_UUID, "-d", work + "/rootfs", image,
                  std::to_string(mib) + "M"},
                 {"MKE2FS_CONFIG=" + work + "/mke2fs.conf", "E2FSPROGS_FAKE_TIME=" + when}));
    TRY(fix_inode_times(work, image, when));

    verity::Superblock sb;
    sb.uuid = TRY(verity::parse_uuid(HASH_UUID, "the demo's hash UUID"));
    sb.salt = *from_hex(SALT_HEX);
    sb.data_blocks = mib * (1 << 20) / verity::BLOCK_BYTES;
    verity::TreeLayout layout = TRY(verity::tree_layout(sb.data_blocks));
    TRY(make_hash_file(work + "/root.hash", layout.device_bytes));
    using storage::FileBlockDevice;
    FileBlockDevice data = TRY(FileBlockDevice::open(image, FileBlockDevice::Mode::ReadOnly));
    FileBlockDevice hash = TRY(FileBlockDevice::open(work + "/root.hash", FileBlockDevice::Mode::ReadWrite));
    verity::RootHash root = TRY(verity::build_tree(data, hash, sb));
    cmdline::VerityRoot v;
    v.data_device = "/dev/vda";
    v.hash_device = "/dev/vdb";
    v.data_blocks = static_cast<uint32_t>(sb.data_blocks);
    v.root_hash = root;
    v.salt = sb.salt;
    return v;
}

Result<bool> make_data_disk(const std::string& work, uint64_t bytes)
{
    std::string path = work + "/data.img";
    UniqueFd fd{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (!fd.valid() && errno == EEXIST)
        return false;
    if (!fd.valid() || ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot create %s: %s", path.c_str(), strerror(errno));
    return true;
}

}  // namespace cvm::cli
