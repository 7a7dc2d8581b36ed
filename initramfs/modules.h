// Kernel modules and their dependencies, resolved from depmod's modules.dep into the order the
// agent loads them with finit_module(2).
//
// modules.dep(5): "Blank lines, and lines starting with a '#' (ignoring spaces) are ignored.
// Other lines are of the form 'filename: [filename]*', listing the complete dependencies for the
// first filename" -- every module it needs, directly or not -- "in descending order": modprobe
// loads them right to left. We do not rely on that order: resolve() computes a topological order
// itself, so that a reordered or hand-written modules.dep cannot load a module before a
// dependency, and it reports cycles and missing entries instead of guessing.
//
// Paths are relative to /lib/modules/<version>/ (kmod's depmod writes them so) and are kept as
// they are, compression suffix included: Debian's kernel ships .ko.xz files and the agent hands
// them to the kernel compressed (MODULE_INIT_COMPRESSED_FILE, CONFIG_MODULE_DECOMPRESS).
#pragma once

#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cvm::initramfs {

// Debian's modules.dep is about 1 MiB and modules.builtin 100 KiB.
inline constexpr size_t MAX_MODULES_DEP_BYTES = 16 << 20;
inline constexpr size_t MAX_MODULES_BUILTIN_BYTES = 4 << 20;

// A module's name as modprobe and the kernel see it: `path_or_name` without its directories and
// without ".ko" and a compression suffix, with every '-' as '_' (modprobe treats them alike):
// "kernel/drivers/net/virtio-net.ko.xz" and "virtio-net" both give "virtio_net".
std::string module_name(std::string_view path_or_name);

struct ModulePlan {
    // Paths relative to /lib/modules/<version>/, every dependency before its users, each once.
    std::vector<std::string> load_order;
    // Requested names that modules.builtin lists: in the kernel already, nothing to load.
    std::vector<std::string> builtin;
};

class ModuleIndex {
public:
    // Parses modules.dep and, when given, modules.builtin (one path per line). Errc::Format naming
    // the line on: a line without "path:", a path that is absolute, contains "..", or does not end
    // in .ko, .ko.xz, .ko.gz or .ko.zst, and a module listed twice.
    static Result<ModuleIndex> parse(std::string_view modules_dep, std::string_view modules_builtin = {});

    // The load order for `names` (as modprobe takes them), in the order given, each after all of
    // its dependencies. Errc::Config naming the module when a name is neither in modules.dep nor
    // built in, when a module depends on a path modules.dep does not list, or when dependencies
    // form a cycle (the message shows it: "a -> b -> a").
    Result<ModulePlan> resolve(std::span<const std::string> names) const;

    // Whether `name` (as modprobe takes it) is in modules.dep or built in.
    bool contains(std::string_view name) const;

    size_t size() const { return m_modules.size(); }

private:
    struct Module {
        std::string path;
        std::vector<std::string> deps;  // as listed: loaded right to left
    };

    std::map<std::string, Module> m_modules;       // by module_name()
    std::map<std::string, std::string> m_by_path;  // path -> module_name()
    std::set<std::string> m_builtin;               // module_name()s
};

}  // namespace cvm::initramfs
