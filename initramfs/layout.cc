#include "initramfs/layout.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "base/file.h"
#include "initramfs/tree.h"

namespace cvm::initramfs {

namespace {

Result<std::string> kernel_version(const std::string& dir)
{
    char resolved[PATH_MAX];
    if (!realpath(dir.c_str(), resolved))
        return Error::from_errno(Errc::Io, errno, "cannot resolve %s: %s", dir.c_str(), strerror(errno));
    std::string path(resolved);
    std::string version = path.substr(path.rfind('/') + 1);
    if (version.empty())
        return Error::make(Errc::Config, "--kernel-modules %s: expected a lib/modules/<version> directory",
                           dir.c_str());
    return version;
}

// modules.builtin is optional: without it, a built-in module is reported as missing.
Result<std::string> read_optional(const std::string& path, size_t max_size)
{
    auto text = read_text_file(path, max_size);
    if (!text && text.error().errno_value() == ENOENT)
        return std::string();
    return text;
}

Result<void> add_modules(const LayoutInputs& inputs, Layout& layout)
{
    if (!inputs.kernel_modules) {
        if (!inputs.modules.empty() || !inputs.platforms.empty())
            return Error::make(Errc::Config, "--module and --platform need --kernel-modules DIR (the kernel's "
                                             "lib/modules/<version>)");
        return {};
    }
    if (inputs.modules.empty() && inputs.platforms.empty())
        return Error::make(Errc::Config, "--kernel-modules given without any --module NAME or --platform to include");
    const std::string& dir = *inputs.kernel_modules;
    layout.kernel_version = TRY(kernel_version(dir));
    std::string dep = TRY(read_text_file(dir + "/modules.dep", MAX_MODULES_DEP_BYTES));
    std::string builtin = TRY(read_optional(dir + "/modules.builtin", MAX_MODULES_BUILTIN_BYTES));
    ModuleIndex index = TRY_PREFIX(ModuleIndex::parse(dep, builtin), "%s", dir.c_str());
    std::vector<std::string> names = TRY(platform_modules(inputs.platforms, index, layout.kernel_version));
    names.insert(names.end(), inputs.modules.begin(), inputs.modules.end());
    layout.modules = TRY(index.resolve(names));

    std::string list;
    std::string base = std::string(MODULES_ROOT) + "/" + layout.kernel_version + "/";
    for (const std::string& path : layout.modules.load_order) {
        TRY(layout.archive.add_host_file(base + path, dir + "/" + path, Exec::No));
        list += path + "\n";
    }
    return layout.archive.add_file(MODULE_LIST_PATH, Bytes(list.begin(), list.end()), Exec::No);
}

}  // namespace

Result<ExtraFile> parse_extra_file(const std::string& spec)
{
    size_t colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
        return Error::make(Errc::Config, "--file '%s': expected SRC:DEST", spec.c_str());
    return ExtraFile{spec.substr(0, colon), spec.substr(colon + 1)};
}

Result<Layout> build_layout(const LayoutInputs& inputs)
{
    for (const ExtraFile& f : inputs.files) {
        std::string dest = TRY_PREFIX(normalize_path(f.dest), "--file %s", f.dest.c_str());
        for (const char* owned : {AGENT_PATH, CONFIG_PATH, MODULE_LIST_PATH}) {
            if (dest == owned)
                return Error::make(Errc::Config, "--file %s:%s: /%s is the layout's own (%s), refusing",
                                   f.source.c_str(), f.dest.c_str(), owned,
                                   dest == AGENT_PATH    ? "the agent: use --agent"
                                   : dest == CONFIG_PATH ? "the agent's configuration: use --config"
                                                         : "the module list: use --module or --platform");
        }
    }
    Layout layout;
    TRY_PREFIX(layout.archive.add_host_file(AGENT_PATH, inputs.agent, Exec::Yes), "--agent");
    if (inputs.config) {
        // Read now rather than streamed: the agent's configuration is small, and this bounds it.
        Bytes config = TRY_PREFIX(read_file(*inputs.config, MAX_CONFIG_BYTES), "--config");
        TRY(layout.archive.add_file(CONFIG_PATH, std::move(config), Exec::No));
    }
    TRY(add_modules(inputs, layout));
    if (inputs.root)
        TRY_PREFIX(add_tree(layout.archive, *inputs.root, WORKLOAD_ROOT), "--root");
    for (const ExtraFile& f : inputs.files)
        TRY_PREFIX(layout.archive.add_host_file(f.dest, f.source, std::nullopt), "--file %s", f.dest.c_str());
    return layout;
}

}  // namespace cvm::initramfs
