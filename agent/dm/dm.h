// Device-mapper through the kernel's ioctl interface (/dev/mapper/control, linux/dm-ioctl.h),
// the way dmsetup talks to it, without libdevmapper or udev: create a device with one table,
// activate it, and remove it. The agent runs without udev, so the node /dev/mapper/<name> is made
// here from the device number the kernel returns.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/secret.h"

namespace cvm::agent::dm {

struct Table {
    uint64_t sectors{0};  // length in 512-byte sectors, from sector 0
    std::string type;     // "crypt", "verity"
    // The target's parameter string. It may hold key material (a crypt table without the
    // keyring), so it lives in wiping memory; the ioctl buffer is wiped too (DM_SECURE_DATA_FLAG).
    SecretBytes params;
};

// Creates the device `name` (at most 127 bytes) with `uuid` (for dmsetup and cryptsetup, e.g.
// "CRYPT-LUKS2-<uuid>-<name>"), loads `table` (read-only if asked) and resumes it; returns the
// path of the new node. On failure nothing is left behind: a half-made device is removed.
// Errc::Io naming the step and the kernel's errno (the kernel logs the target's reason).
Result<std::string> create(const std::string& name, const std::string& uuid, const Table& table, bool read_only);

// Removes the device `name` and its node; the kernel wipes a crypt target's key as it goes.
Result<void> remove(const std::string& name);

// Adds `key` to the calling thread's keyring as a "logon" key named `description` (such keys can
// be used by the kernel but never read back by user space) and returns its serial, so that a
// crypt table can name it (":<size>:logon:<description>") instead of carrying the key. Errc::
// Unsupported when the kernel has no keyring (ENOSYS) or does not know logon keys.
Result<int32_t> add_logon_key(const std::string& description, ByteView key);

// Unlinks and invalidates the key: once a table holds its own copy, the keyring's goes.
void drop_key(int32_t serial);

}  // namespace cvm::agent::dm
