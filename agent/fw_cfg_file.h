// One QEMU fw_cfg file, as the kernel's qemu_fw_cfg driver shows it in sysfs
// (drivers/firmware/qemu_fw_cfg.c). The layout and its failure modes, which read_fw_cfg_file()
// tells apart:
//
//   /sys/firmware/qemu_fw_cfg/        fw_cfg_sysfs_init(): made when the module loads, with or
//                                     without a device                            else NoDriver
//     by_name/                        fw_cfg_sysfs_probe(): made only when a fw_cfg device was
//                                     found (ACPI QEMU0002, DT, or fw_cfg.ioport=) and its
//                                     "QEMU" signature read back; removed when the probe fails
//                                                                                 else NoDevice
//       opt/cvminit/initdata          fw_cfg_build_symlink(): a directory per '/'-separated
//                                     component, the last a symlink to by_key/<select>; best
//                                     effort: a component that collides with another file's
//                                     name leaves the file out of by_name           else NoFile
//     by_key/<select>/size            fw_cfg_sysfs_show_size(): the blob's size, "%u\n"
//     by_key/<select>/raw             fw_cfg_sysfs_read_raw(), mode 0400: EINVAL when the offset
//                                     is past the size, a read past the end is cut; sysfs
//                                     reports st_size 0 and returns at most a page per read()
//
// The host writes every byte of it: the contents are untrusted input, to be checked by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::agent {

inline constexpr const char* FW_CFG_SYSFS = "/sys/firmware/qemu_fw_cfg";

enum class FwCfgFailure : uint8_t {
    None,
    NoDriver,    // no <sysfs> directory: the qemu_fw_cfg module is not loaded
    NoDevice,    // no <sysfs>/by_name: the driver found no fw_cfg device (not QEMU)
    NoFile,      // no <sysfs>/by_name/<name>/raw: the host did not pass the file
    TooLarge,    // its size attribute says more than max_size (nothing is read then)
    Unreadable,  // size or raw cannot be read, or raw's length is not the size attribute's
};

// The whole blob of fw_cfg file `name` ("opt/cvminit/initdata") under `sysfs` (FW_CFG_SYSFS in
// a guest, a fake tree in tests): the size attribute is read first and bounded by `max_size`,
// then raw, which must have exactly that many bytes. On failure `failure` (when given) says which
// case it was; the Error (Errc::Config for the first three, Errc::Format for TooLarge and a
// length mismatch, Errc::Io with errno otherwise) names the path.
Result<Bytes> read_fw_cfg_file(const std::string& sysfs, std::string_view name, size_t max_size,
                               FwCfgFailure* failure = nullptr);

}  // namespace cvm::agent
