// A fake of the sysfs tree the kernel's qemu_fw_cfg driver makes (drivers/firmware/qemu_fw_cfg.c),
// over a temporary directory standing in for the guest's root, in the states a guest can meet:
//
//   (constructed)   no /sys/firmware/qemu_fw_cfg: the module is not loaded
//   load_driver()   fw_cfg_sysfs_init(): the top directory, made by module init, device or not
//   probe()         fw_cfg_sysfs_probe() after the "QEMU" signature read back: by_key/, by_name/
//   add_file()      fw_cfg_register_file(): by_key/<select>/{size,key,name,raw} (size "%u\n" from
//                   fw_cfg_sysfs_show_size(), raw the blob), then fw_cfg_build_symlink(): one
//                   directory per '/'-separated component of the name under by_name/, the last a
//                   symlink to by_key/<select>; best effort, as there: when a component collides
//                   with an existing file's symlink (or the link name with a directory) the file
//                   stays in by_key only and add_file() returns false
//
// Selectors count up from FW_CFG_FILE_FIRST (0x20, QEMU include/standard-headers/linux/
// qemu_fw_cfg.h) in the order files are added, as QEMU assigns them. What a plain file cannot do:
// sysfs hands out at most a page per read() of raw and reports st_size 0 (read_fw_cfg_file never
// relies on either), and raw's EINVAL past the end (never reached by a reader that stops at EOF).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"

namespace cvm::test {

class FakeFwCfg {
public:
    // `guest_root`: an existing directory; the tree goes to <guest_root>/sys/firmware/qemu_fw_cfg.
    explicit FakeFwCfg(std::string guest_root);

    void load_driver();
    void probe();
    bool add_file(std::string_view name, ByteView contents);
    // Overwrites the size attribute of an added file: the driver keeps it equal to the blob's,
    // so this only exercises the reader's own guard.
    void set_size_attribute(std::string_view name, const std::string& text);

    // <guest_root>/sys/firmware/qemu_fw_cfg/by_name, what ProviderPaths::fw_cfg_root names.
    std::string by_name() const { return m_top + "/by_name"; }

private:
    std::string m_top;
    uint16_t m_next_select{0x20};
};

}  // namespace cvm::test
