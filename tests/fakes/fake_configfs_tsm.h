// A fake of the kernel's configfs-tsm report group (drivers/virt/coco/tsm.c of the pinned 6.12;
// drivers/virt/coco/guest/report.c in mainline, same behaviour; fs/configfs/file.c for how
// attribute reads and writes reach it) with sev-guest as its provider, over a temporary directory.
//
// A plain directory cannot produce outblob when inblob is written, so the fake sits at the
// provider's ConfigfsFiles seam and adds what the kernel would do to the real file operations it
// delegates to (system_configfs_files()): the provider's own open/write/close and bounded reads
// run against real files; the kernel's state and side effects are modelled here:
//   make_dir     tsm_report_make_item: ENXIO while no provider is registered; else the item's
//                attribute files (provider "sev_guest\n", generation "0\n", privlevel_floor)
//   write        privlevel: tsm_report_privlevel_store, checked when written (kstrtouint, then
//                privlevel_floor <= value <= TSM_PRIVLEVEL_MAX 3, else EINVAL);
//                inblob: configfs_bin_write_iter refuses more than TSM_INBLOB_MAX (64) bytes with
//                EFBIG, and the store at close (tsm_report_inblob_write) sets inblob_len;
//                every store: try_advance_write_generation, so generation reads "%lu\n" of it
//   read         outblob/auxblob: tsm_report_read: EINVAL while inblob_len == 0; the cached report
//                while read_generation == write_generation, else sev_report_new through the
//                sev-guest fake (FakeSevGuest::report_new: 64-byte inblob, 16 KiB certificate
//                buffer, EIO when the host's certificates need more, ENOTTY once the VMPCK is
//                wiped); auxblob is empty when the host gave no certificates
//   remove_dir   removes the attribute files and the directory
// The knobs below make the fake misbehave the ways a test needs.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "fake_sev_guest.h"
#include "providers/report_provider_configfs.h"

namespace cvm::test {

class FakeConfigfsTsm final : public agent::ConfigfsFiles {
public:
    // `root`: an existing directory standing in for /sys/kernel/config/tsm/report. `sev_guest`
    // is the registered provider's driver; both must outlive the fake.
    FakeConfigfsTsm(std::string root, FakeSevGuest& sev_guest);

    bool provider_registered = true;       // false: tsm loaded, sev-guest not bound
    std::string provider = "sev_guest\n";  // sysfs_emit("%s\n", ops->name)
    unsigned privlevel_floor = 0;          // sev-guest: the VMPCK id, i.e. the VMPL the guest runs at
    bool privlevel_visible = true;         // report_attr_visible (sev-guest: always)
    bool auxblob_visible = true;           // report_bin_attr_visible (sev-guest: always)
    int concurrent_writes = 0;             // another writer's inblob writes right after the next report
    std::function<void(Bytes&)> tamper;    // edits outblob after it is generated

    // What happened.
    int reports_generated = 0;
    std::vector<std::string> entries_made;
    std::optional<unsigned> last_privlevel;

    Result<void> make_dir(const std::string& path) override;
    Result<void> remove_dir(const std::string& path) override;
    bool exists(const std::string& path) override;
    Result<void> write(const std::string& path, ByteView data) override;
    Result<Bytes> read(const std::string& path, size_t max_size) override;

private:
    struct Entry {  // struct tsm_report_state
        unsigned long write_generation{0};
        unsigned long read_generation{0};
        Bytes inblob;  // desc.inblob, desc.inblob_len
        unsigned privlevel{0};
        std::optional<Bytes> outblob, auxblob;
    };
    Result<void> advance_generation(const std::string& dir, Entry& entry);
    Result<void> read_report(const std::string& dir, Entry& entry, const std::string& path);
    Entry* entry_of(const std::string& path, std::string& dir, std::string& attribute);

    std::string m_root;
    FakeSevGuest& m_sev_guest;
    agent::ConfigfsFiles& m_real;
    std::map<std::string, Entry> m_entries;
};

}  // namespace cvm::test
