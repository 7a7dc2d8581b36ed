// Stage 8, storage (DESIGN.md §5): the read-only root pinned by the measured cmdline's verity
// root hash, and the LUKS2 data volume opened with the broker's key — or, with
// cvminit.data_key_mode=hybrid, with HKDF of the broker's key and this chip's SNP derived key
// (docs/sealing.md) — formatted on first boot. The volume's generation becomes the one reported
// to the broker plus one; a recovery key in the release opens the recovery keyslot and re-makes
// keyslot 0 for this chip.
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
#include "sealing/policy.h"
#include "snp/report.h"
#include "stages.h"
#include "storage/data_volume.h"
#include "storage/verity.h"

namespace cvm::agent {
namespace {

namespace luks2 = storage::luks2;

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

sealing::Policy policy_of(cmdline::DataKeyPolicy p)
{
    switch (p) {
    case cmdline::DataKeyPolicy::MeasurementAndChip: return sealing::Policy::MeasurementAndChip;
    case cmdline::DataKeyPolicy::MeasurementOnly: return sealing::Policy::MeasurementOnly;
    case cmdline::DataKeyPolicy::ChipOnly: return sealing::Policy::ChipOnly;
    }
    return sealing::Policy::ChipOnly;
}

// The derived-key request of a hybrid volume's keyslot 0: the one the volume recorded (its
// fields and TCB_VERSION, so a firmware update does not lose the volume), or, for a new volume or
// a recovery that re-makes keyslot 0, the policy's request at the report's COMMITTED_TCB. The
// measured cvminit.data_key_policy must be the volume's; only a recovery (the broker's recovery
// key) changes it, or turns a broker-key volume hybrid.
Result<DerivedKeyRequest> hybrid_request(Context& ctx, const cmdline::DataVolume& d, const luks2::Volume* volume,
                                         bool recovering)
{
    sealing::Policy policy = policy_of(d.key_policy);
    std::string_view name = sealing::policy_name(policy);
    if (!volume || recovering) {
        snp::AttestationReport report = TRY_PREFIX(snp::parse_report(ctx.report), "this boot's report");
        return sealing::request_for(policy, report.committed_tcb);
    }
    if (!volume->derivation)
        return Error::make(Errc::Config,
                           "%s: the volume's keyslot is the broker's key alone, cvminit.data_key_mode is hybrid; with "
                           "a recovery keyslot, a recovery (cvm broker volume recover %s) makes it hybrid",
                           d.device.c_str(), d.key_name.c_str());
    const luks2::Derivation& was = *volume->derivation;
    if (was.policy != name)
        return Error::make(Errc::Config,
                           "%s: the volume's derived key is %s, cvminit.data_key_policy is %.*s; a recovery (cvm "
                           "broker volume recover %s) through its recovery keyslot changes it",
                           d.device.c_str(), was.policy.c_str(), static_cast<int>(name.size()), name.data(),
                           d.key_name.c_str());
    DerivedKeyRequest request = sealing::request_for(policy, was.tcb_version);
    request.field_select = was.field_select;
    request.guest_svn = was.guest_svn;
    return request;
}

Result<std::string> open_data(Context& ctx, const cmdline::DataVolume& d)
{
    const proto::ReleasedVolume* key = nullptr;
    for (const proto::ReleasedVolume& v : ctx.release->volumes)
        if (v.name == d.key_name)
            key = &v;
    if (!key)
        return Error::make(Errc::Config, "the broker released no volume key '%s' for cvminit.data", d.key_name.c_str());
    const luks2::Inspection& seen = *ctx.data_seen;
    const luks2::Volume* volume = seen.volume ? &*seen.volume : nullptr;
    // Only a volume with a recovery keyslot can be recovered (re-made keyslot 0, mode or policy).
    bool recovering = volume && volume->recovery_keyslot && !key->recovery.empty();
    bool hybrid = d.key_mode == cmdline::DataKeyMode::Hybrid;
    if (!hybrid && volume && volume->derivation && !recovering)
        return Error::make(Errc::Config,
                           "%s: the volume is hybrid (%s), cvminit.data_key_mode is broker; a recovery (cvm broker "
                           "volume recover %s) through its recovery keyslot makes it the broker's key alone",
                           d.device.c_str(), volume->derivation->policy.c_str(), d.key_name.c_str());

    storage::VolumeSecrets secrets;
    DerivedKey derived;  // outlives open_or_format, which calls the passphrase function
    if (hybrid) {
        DerivedKeyRequest request = TRY(hybrid_request(ctx, d, volume, recovering));
        std::string policy(sealing::policy_name(policy_of(d.key_policy)));
        derived = TRY_PREFIX(ctx.provider->derive_key(request), "the hybrid volume's derived key (%s)", policy.c_str());
        secrets.passphrase = [&](std::string_view uuid) {
            return sealing::hybrid_passphrase(key->key.expose(), derived, uuid);
        };
        secrets.require_recovery = true;
        secrets.derivation = luks2::Derivation{policy, request.field_select, request.guest_svn, request.tcb_version};
    } else {
        secrets.passphrase = [&](std::string_view) -> Result<SecretBytes> {
            return SecretBytes::copy_of(key->key.expose());
        };
    }
    if (!key->recovery.empty())
        secrets.recovery = [&](std::string_view) -> Result<SecretBytes> {
            return SecretBytes::copy_of(key->recovery.expose());
        };
    auto device = TRY(storage::FileBlockDevice::open(d.device, storage::FileBlockDevice::Mode::ReadWrite));
    DmCryptActivator crypt(DATA_MAPPING);
    auto started = std::chrono::steady_clock::now();
    uint64_t next_generation = ctx.data_report->generation + 1;
    storage::OpenedVolume opened = TRY(storage::open_or_format(device, seen, next_generation, secrets, crypt));
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
