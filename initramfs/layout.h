// The layout of a cvminit initramfs: which host input goes where, in one place for the builder
// and the paths the agent reads (agent/stage_*.cc).
//
//   /init                                  the agent (0755)
//   /etc/cvminit.toml                      its configuration, when given
//   /etc/cvminit/modules                   module paths in load order, one per line, relative to
//                                          /lib/modules/<version>/
//   /lib/modules/<version>/<path>          each of those modules, compressed as shipped
//   /workload/...                          the workload's root tree, when given
//   any --file SRC:DEST                    extra files anywhere else
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "initramfs/cpio.h"
#include "initramfs/modules.h"
#include "initramfs/platforms.h"

namespace cvm::initramfs {

inline constexpr const char* AGENT_PATH = "init";
inline constexpr const char* CONFIG_PATH = "etc/cvminit.toml";
inline constexpr const char* MODULE_LIST_PATH = "etc/cvminit/modules";
inline constexpr const char* MODULES_ROOT = "lib/modules";
inline constexpr const char* WORKLOAD_ROOT = "workload";

inline constexpr size_t MAX_CONFIG_BYTES = 1 << 20;

struct ExtraFile {
    std::string source;  // host path (symlinks followed)
    std::string dest;    // archive path
};

struct LayoutInputs {
    std::string agent;                          // host path of the cvminit binary
    std::optional<std::string> config;          // host path of cvminit.toml
    std::optional<std::string> kernel_modules;  // a lib/modules/<version> directory with modules.dep
    std::vector<Platform> platforms;            // presets (platforms.h), loaded before `modules`
    std::vector<std::string> modules;           // names as modprobe takes them, in load order
    std::optional<std::string> root;            // host directory copied to /workload
    std::vector<ExtraFile> files;
};

struct Layout {
    Archive archive;
    std::string kernel_version;  // the name of the kernel_modules directory, when given
    ModulePlan modules;
};

// Splits "SRC:DEST" at its last ':' (so DEST cannot contain one); Errc::Config if either is empty.
Result<ExtraFile> parse_extra_file(const std::string& spec);

// Builds the archive for `inputs`. The kernel version is the last component of the
// kernel_modules directory (symlinks resolved): the agent loads modules from
// /lib/modules/<uname -r>/, so it must be the release of the kernel that boots this initramfs.
// Errc::Config when modules or platforms are named without kernel_modules or the reverse, for a
// --file onto a path the layout owns (/init, /etc/cvminit.toml, /etc/cvminit/modules), for the
// errors of platform_modules(), ModuleIndex::resolve() and of the Archive adds (duplicates, for
// one); Errc::Io and
// Errc::Format when an input cannot be read or parsed.
Result<Layout> build_layout(const LayoutInputs& inputs);

}  // namespace cvm::initramfs
