// Stage 8, storage (DESIGN.md §5): the read-only root pinned by the measured cmdline's verity
// root hash, and the LUKS2 data volume opened with the broker's key (formatted on first boot).
// Nothing the host wrote to a disk is trusted: the verity superblock must match the cmdline, and
// the LUKS2 header is validated strictly in memory before anything is derived from it or written.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "dm/crypt.h"
#include "dm/dm.h"
#include "mounts.h"
#include "stages.h"
#include "storage/verity.h"

namespace cvm::agent {
namespace {

constexpr const char* ROOT_MAPPING = "cvminit-root";
constexpr const char* DATA_MAPPING = "cvminit-data";
constexpr const char* SYSROOT = "/sysroot";

Result<void> mount_ext4(const std::string& node, const std::string& target, unsigned long flags, const char* options)
{
    if (mount(node.c_str(), target.c_str(), "ext4", flags, options) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to mount %s on %s as ext4: %s", node.c_str(), target.c_str(),
                                 strerror(errno));
    return {};
}

// The hash device's superblock is the host's too: it must say what the measured cmdline says.
// (The root hash alone would catch a mismatch at the first read; this names it at boot.)
Result<storage::verity::Superblock> check_superblock(const cmdline::VerityRoot& v)
{
    using storage::FileBlockDevice;
    auto hash = TRY(FileBlockDevice::open(v.hash_device, FileBlockDevice::Mode::ReadOnly));
    auto data = TRY(FileBlockDevice::open(v.data_device, FileBlockDevice::Mode::ReadOnly));
    storage::verity::Superblock sb = TRY_PREFIX(storage::verity::read_superblock(hash), "%s", v.hash_device.c_str());
    if (sb.data_blocks != v.data_blocks)
        return Error::make(Errc::Format, "verity superblock on %s: data_blocks is %llu, cvminit.verity.blocks is %u",
                           v.hash_device.c_str(), static_cast<unsigned long long>(sb.data_blocks), v.data_blocks);
    if (sb.salt != v.salt)
        return Error::make(Errc::Format, "verity superblock on %s: salt is %s, cvminit.verity.salt is %s",
                           v.hash_device.c_str(), storage::verity::salt_text(sb.salt).c_str(),
                           storage::verity::salt_text(v.salt).c_str());
    auto layout = TRY(storage::verity::tree_layout(sb.data_blocks));
    TRY(storage::check_range(data, 0, sb.data_blocks * storage::verity::BLOCK_BYTES));
    TRY(storage::check_range(hash, 0, layout.device_bytes));
    return sb;
}

Result<std::string> open_root(Context& ctx, const cmdline::VerityRoot& v)
{
    storage::verity::Superblock sb = TRY(check_superblock(v));
    std::string params = TRY(storage::verity::dm_table(v.data_device, v.hash_device, sb, v.root_hash));
    dm::Table table{uint64_t{v.data_blocks} * 8, "verity",
                    SecretBytes::copy_of({reinterpret_cast<const uint8_t*>(params.data()), params.size()})};
    std::string node = TRY(dm::create(ROOT_MAPPING, "CVMINIT-VERITY-root", table, true));
    std::string target = ctx.root + SYSROOT;
    TRY(make_dirs(target));
    // noload: a read-only device cannot replay a journal; the image is made clean on the host.
    TRY(mount_ext4(node, target, MS_RDONLY | MS_NODEV, "noload"));
    ctx.workload_root = SYSROOT;
    return "root " + v.data_device + " verified by " + v.hash_device + " (" + std::to_string(v.data_blocks) +
           " blocks), read-only at " + SYSROOT;
}

Result<std::string> open_data(Context& ctx, const cmdline::DataVolume& d)
{
    const proto::ReleasedVolume* key = nullptr;
    for (const proto::ReleasedVolume& v : ctx.release->volumes)
        if (v.name == d.key_name)
            key = &v;
    if (!key)
        return Error::make(Errc::Config, "the broker released no volume key '%s' for cvminit.data", d.key_name.c_str());
    auto device = TRY(storage::FileBlockDevice::open(d.device, storage::FileBlockDevice::Mode::ReadWrite));
    DmCryptActivator crypt(DATA_MAPPING);
    auto started = std::chrono::steady_clock::now();
    // The smallest step to the issue-17 contract (the storage stage's own wiring replaces it):
    // keyslot 0 opens with the broker's key as it is, no recovery keyslot, the generation
    // reported as the header says now.
    storage::luks2::Inspection seen = TRY(storage::luks2::inspect(device));
    storage::VolumeSecrets secrets;
    secrets.passphrase = [key](std::string_view) -> Result<SecretBytes> {
        return SecretBytes::copy_of(key->key.expose());
    };
    uint64_t reported = seen.volume ? seen.volume->generation : 0;
    storage::OpenedVolume opened = TRY(storage::open_or_format(device, seen, reported + 1, secrets, crypt));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    std::string node = "/dev/mapper/" + std::string(DATA_MAPPING);
    opened.plaintext.reset();
    ctx.open_mappings.push_back(DATA_MAPPING);
    std::string target = ctx.root + ctx.workload_root + d.mount;
    if (ctx.workload_root != SYSROOT) {  // a read-only root must bring its mount point
        // The initramfs's workload tree becomes a mount point now, not at handoff: binding it
        // then would copy this mount into a hidden second one that keeps the volume busy.
        TRY(make_mount_point(ctx.root + ctx.workload_root));
        TRY(make_dirs(target));
    }
    TRY(mount_ext4(node, target, MS_NODEV | MS_NOSUID, ""));
    ctx.open_mounts.push_back(d.mount);
    return opened.summary + " in " + std::to_string(ms.count()) + " ms, key via " + crypt.key_path() + ", at " +
           d.mount;
}

}  // namespace

Result<std::string> stage_storage(Context& ctx)
{
    std::string summary;
    if (ctx.verity)
        summary = TRY(open_root(ctx, *ctx.verity));
    if (ctx.data) {
        if (!ctx.release)
            return Error::make(Errc::Config, "no release to take the volume key from (retrieve did not run)");
        summary += (summary.empty() ? "" : "; ") + TRY(open_data(ctx, *ctx.data));
    }
    return summary.empty() ? std::string("no disks configured (the workload runs from the initramfs)") : summary;
}

std::string close_storage(Context& ctx)
{
    sync();
    std::string done;
    auto add = [&done](const std::string& what) { done += (done.empty() ? "" : ", ") + what; };
    for (auto it = ctx.open_mounts.rbegin(); it != ctx.open_mounts.rend(); ++it) {
        int err = umount(it->c_str()) == 0 ? 0 : errno;
        add(err == 0 ? "unmounted " + *it : "could not unmount " + *it + " (" + strerror(err) + ")");
    }
    for (auto it = ctx.open_mappings.rbegin(); it != ctx.open_mappings.rend(); ++it) {
        auto removed = dm::remove(*it);
        add(removed ? "closed " + *it + " (its key wiped by the kernel)" : std::string(removed.error().message()));
    }
    ctx.open_mounts.clear();
    ctx.open_mappings.clear();
    return done;
}

}  // namespace cvm::agent
