#include "dm/dm.h"

#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/keyctl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file.h"

namespace cvm::agent::dm {
namespace {

constexpr const char* CONTROL = "/dev/mapper/control";

// One ioctl buffer: the dm_ioctl header, then an optional target spec and its parameters.
// Held in wiping memory because a crypt table's parameters may carry a key.
Result<SecretBytes> request(const std::string& name, const std::string& uuid, size_t payload)
{
    if (name.empty() || name.size() >= DM_NAME_LEN || name.find('/') != std::string::npos)
        return Error::make(Errc::Config, "device-mapper name '%s': 1 to 127 bytes without '/'", name.c_str());
    if (uuid.size() >= DM_UUID_LEN)
        return Error::make(Errc::Config, "device-mapper uuid of %zu bytes; at most 128", uuid.size());
    SecretBytes buffer(sizeof(dm_ioctl) + payload);
    auto* io = reinterpret_cast<dm_ioctl*>(buffer.expose().data());
    io->version[0] = DM_VERSION_MAJOR;
    io->version[1] = 0;
    io->version[2] = 0;
    io->data_size = static_cast<uint32_t>(buffer.size());
    io->data_start = sizeof(dm_ioctl);
    memcpy(io->name, name.data(), name.size());
    memcpy(io->uuid, uuid.data(), uuid.size());
    return buffer;
}

Result<dm_ioctl> call(unsigned long command, const char* what, SecretBytes& buffer)
{
    UniqueFd control{open(CONTROL, O_RDWR | O_CLOEXEC)};
    if (!control.valid())
        return Error::from_errno(Errc::Io, errno, "failed to open %s (is dm_mod loaded?): %s", CONTROL,
                                 strerror(errno));
    auto* io = reinterpret_cast<dm_ioctl*>(buffer.expose().data());
    // syscall(2) rather than ioctl(3): glibc and musl disagree on the request parameter's type.
    if (syscall(SYS_ioctl, control.get(), command, io) != 0)
        return Error::from_errno(Errc::Io, errno, "device-mapper %s of '%s' failed: %s (the kernel log says why)", what,
                                 io->name, strerror(errno));
    return *io;
}

std::string node_path(const std::string& name)
{
    return std::string("/dev/mapper/") + name;
}

Result<void> make_node(const std::string& name, uint64_t dev)
{
    std::string path = node_path(name);
    unlink(path.c_str());
    if (mknod(path.c_str(), S_IFBLK | 0600, static_cast<dev_t>(dev)) != 0)
        return Error::from_errno(Errc::Io, errno, "failed to create %s: %s", path.c_str(), strerror(errno));
    return {};
}

Result<void> load_and_resume(const std::string& name, const Table& table, bool read_only)
{
    size_t spec_size = (sizeof(dm_target_spec) + table.params.size() + 1 + 7) & ~size_t{7};
    SecretBytes load = TRY(request(name, "", spec_size));
    auto* io = reinterpret_cast<dm_ioctl*>(load.expose().data());
    io->target_count = 1;
    io->flags = DM_SECURE_DATA_FLAG | (read_only ? DM_READONLY_FLAG : 0);
    auto* spec = reinterpret_cast<dm_target_spec*>(load.expose().data() + sizeof(dm_ioctl));
    spec->sector_start = 0;
    spec->length = table.sectors;
    spec->next = static_cast<uint32_t>(spec_size);
    if (table.type.empty() || table.type.size() >= DM_MAX_TYPE_NAME)
        return Error::make(Errc::Config, "device-mapper target type '%s'", table.type.c_str());
    memcpy(spec->target_type, table.type.data(), table.type.size());
    memcpy(load.expose().data() + sizeof(dm_ioctl) + sizeof(dm_target_spec), table.params.expose().data(),
           table.params.size());
    TRY(call(DM_TABLE_LOAD, "table load", load));
    SecretBytes resume = TRY(request(name, "", 0));
    TRY(call(DM_DEV_SUSPEND, "resume", resume));
    return {};
}

}  // namespace

Result<std::string> create(const std::string& name, const std::string& uuid, const Table& table, bool read_only)
{
    SecretBytes create_request = TRY(request(name, uuid, 0));
    dm_ioctl created = TRY(call(DM_DEV_CREATE, "create", create_request));
    if (auto loaded = load_and_resume(name, table, read_only); !loaded) {
        (void)remove(name);
        return loaded.error();
    }
    if (auto node = make_node(name, created.dev); !node) {
        (void)remove(name);
        return node.error();
    }
    return node_path(name);
}

Result<void> remove(const std::string& name)
{
    SecretBytes buffer = TRY(request(name, "", 0));
    TRY(call(DM_DEV_REMOVE, "remove", buffer));
    unlink(node_path(name).c_str());
    return {};
}

Result<int32_t> add_logon_key(const std::string& description, ByteView key)
{
    long serial = syscall(SYS_add_key, "logon", description.c_str(), key.data(), key.size(), KEY_SPEC_THREAD_KEYRING);
    if (serial < 0 && (errno == ENOSYS || errno == ENODEV || errno == EOPNOTSUPP))
        return Error::from_errno(Errc::Unsupported, errno, "the kernel keyring takes no logon keys: %s",
                                 strerror(errno));
    if (serial < 0)
        return Error::from_errno(Errc::Io, errno, "failed to add the key '%s' to the keyring: %s", description.c_str(),
                                 strerror(errno));
    return static_cast<int32_t>(serial);
}

void drop_key(int32_t serial)
{
    // Invalidate while the key is still ours (linked to this thread's keyring), then unlink.
    syscall(SYS_keyctl, KEYCTL_INVALIDATE, serial);
    syscall(SYS_keyctl, KEYCTL_UNLINK, serial, KEY_SPEC_THREAD_KEYRING);
}

}  // namespace cvm::agent::dm
