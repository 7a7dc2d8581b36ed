// A fake of the kernel's configfs-tsm report group with the sev_guest provider
// (drivers/virt/coco/tsm.c, sev-guest.c sev_report_new), over a temporary directory.
//
// A plain directory cannot produce outblob when inblob is written, so the fake sits at the
// provider's ConfigfsFiles seam and adds what the kernel would do to the real file operations it
// delegates to (system_configfs_files()): the provider's own open/write/close and bounded reads
// run against real files; only the kernel's side effects are modelled here:
//   make_dir     creates the item's attribute files (provider, generation "0\n", privlevel_floor,
//                privlevel and auxblob when visible, empty inblob and outblob)
//   write        inblob or privlevel: the bytes land in the file, then generation += 1
//   read         outblob or auxblob after a write: the report is generated from inblob (exactly
//                64 bytes, else EINVAL as sev_report_new) at privlevel by the simulated PSP and
//                written to outblob, the PSP's certificate table to auxblob, then the file is read
//   remove_dir   removes the attribute files and the directory
// The knobs below make the fake misbehave the ways a test needs.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "providers/report_provider_configfs.h"
#include "sim/psp.h"

namespace cvm::test {

class FakeConfigfsTsm final : public agent::ConfigfsFiles {
public:
    // `root`: an existing directory standing in for /sys/kernel/config/tsm/report. `psp` must
    // outlive the fake.
    FakeConfigfsTsm(std::string root, const sim::SimulatedPsp& psp);

    std::string provider = "sev_guest\n";
    bool privlevel_visible = true;
    bool auxblob_visible = true;
    std::optional<Bytes> auxblob;        // instead of the PSP's certificate table
    int concurrent_writes = 0;           // another writer's inblob writes while outblob is made
    std::function<void(Bytes&)> tamper;  // edits outblob after it is generated

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
    struct Entry {
        unsigned long generation{0};
        unsigned privlevel{0};
        bool stale{false};  // written since the last report
    };
    Result<void> generate(const std::string& dir, Entry& entry);
    Entry* entry_of(const std::string& path, std::string& dir, std::string& attribute);

    std::string m_root;
    const sim::SimulatedPsp& m_psp;
    agent::ConfigfsFiles& m_real;
    std::map<std::string, Entry> m_entries;
};

}  // namespace cvm::test
