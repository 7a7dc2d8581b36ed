#include "initramfs/modules.h"

#include <algorithm>
#include <array>

namespace cvm::initramfs {

namespace {

constexpr std::array<std::string_view, 4> MODULE_SUFFIXES = {".ko", ".ko.xz", ".ko.gz", ".ko.zst"};

bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && is_blank(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back()))
        s.remove_suffix(1);
    return s;
}

// Calls `each(line_number, line)` for every line that is not blank or a '#' comment.
template <typename F>
Result<void> for_each_line(std::string_view text, F each)
{
    size_t number = 0;
    while (!text.empty()) {
        size_t end = text.find('\n');
        std::string_view line = trim(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++number;
        if (!line.empty() && line.front() != '#')
            TRY(each(number, line));
    }
    return {};
}

// The path goes below /lib/modules/<version>/ in the archive: it must stay there.
Result<void> check_path(std::string_view path, const char* file, size_t line)
{
    bool suffix_ok = false;
    for (std::string_view s : MODULE_SUFFIXES)
        suffix_ok = suffix_ok || (ends_with(path, s) && path.size() > s.size());
    bool escapes = path.empty() || path.front() == '/' || path == ".." || path.starts_with("../") ||
                   path.find("/../") != std::string_view::npos || ends_with(path, "/..");
    bool control = false;
    for (char c : path)
        control = control || static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;  // and spaces
    if (escapes || control || !suffix_ok)
        return Error::make(Errc::Format, "%s line %zu: '%.*s' is not a relative .ko[.xz|.gz|.zst] path", file, line,
                           static_cast<int>(std::min<size_t>(path.size(), 120)), path.data());
    return {};
}

}  // namespace

std::string module_name(std::string_view path_or_name)
{
    size_t slash = path_or_name.rfind('/');
    std::string_view base = slash == std::string_view::npos ? path_or_name : path_or_name.substr(slash + 1);
    for (std::string_view s : MODULE_SUFFIXES) {
        if (ends_with(base, s)) {
            base.remove_suffix(s.size());
            break;
        }
    }
    std::string out(base);
    for (char& c : out) {
        if (c == '-')
            c = '_';
    }
    return out;
}

Result<ModuleIndex> ModuleIndex::parse(std::string_view modules_dep, std::string_view modules_builtin)
{
    if (modules_dep.size() > MAX_MODULES_DEP_BYTES || modules_builtin.size() > MAX_MODULES_BUILTIN_BYTES)
        return Error::make(Errc::Format, "modules.dep or modules.builtin is larger than allowed");
    ModuleIndex index;
    TRY(for_each_line(modules_dep, [&](size_t line, std::string_view text) -> Result<void> {
        size_t colon = text.find(':');
        if (colon == std::string_view::npos)
            return Error::make(Errc::Format, "modules.dep line %zu: expected 'path: [dependency ...]'", line);
        std::string_view path = trim(text.substr(0, colon));
        TRY(check_path(path, "modules.dep", line));
        Module module{std::string(path), {}};
        std::string_view rest = text.substr(colon + 1);
        while (!(rest = trim(rest)).empty()) {
            size_t end = 0;
            while (end < rest.size() && !is_blank(rest[end]))
                ++end;
            TRY(check_path(rest.substr(0, end), "modules.dep", line));
            module.deps.emplace_back(rest.substr(0, end));
            rest.remove_prefix(end);
        }
        std::string name = module_name(path);
        if (index.m_modules.count(name) != 0)
            return Error::make(Errc::Format, "modules.dep line %zu: module '%s' is listed twice (%s and %s)", line,
                               name.c_str(), index.m_modules[name].path.c_str(), module.path.c_str());
        index.m_by_path.emplace(module.path, name);
        index.m_modules.emplace(std::move(name), std::move(module));
        return {};
    }));
    TRY(for_each_line(modules_builtin, [&](size_t line, std::string_view path) -> Result<void> {
        TRY(check_path(path, "modules.builtin", line));
        index.m_builtin.insert(module_name(path));
        return {};
    }));
    return index;
}

bool ModuleIndex::contains(std::string_view name) const
{
    std::string canonical = module_name(name);
    return m_modules.count(canonical) != 0 || m_builtin.count(canonical) != 0;
}

Result<ModulePlan> ModuleIndex::resolve(std::span<const std::string> names) const
{
    enum class Mark : uint8_t { Visiting, Done };
    struct Frame {
        const std::string* name;  // a key of m_modules
        const Module* module;
        size_t taken;  // dependencies visited so far, counted from the right
    };
    ModulePlan plan;
    std::map<std::string_view, Mark> marks;
    for (const std::string& requested : names) {
        if (requested.empty() || requested.find('/') != std::string::npos || ends_with(requested, ".ko"))
            return Error::make(Errc::Config, "'%s' is not a module name (expected a name such as virtio_net)",
                               requested.c_str());
        std::string name = module_name(requested);
        auto found = m_modules.find(name);
        if (found == m_modules.end()) {
            if (m_builtin.count(name) == 0)
                return Error::make(Errc::Config, "module '%s' is not in modules.dep and not built in", name.c_str());
            if (std::find(plan.builtin.begin(), plan.builtin.end(), name) == plan.builtin.end())
                plan.builtin.push_back(std::move(name));
            continue;
        }
        if (marks.count(found->first) != 0)
            continue;
        // Depth-first, iteratively (a hostile modules.dep could chain thousands of modules),
        // emitting a module once all of its dependencies are out: a topological order.
        std::vector<Frame> stack{{&found->first, &found->second, 0}};
        marks[found->first] = Mark::Visiting;
        while (!stack.empty()) {
            Frame& top = stack.back();
            if (top.taken == top.module->deps.size()) {
                marks[*top.name] = Mark::Done;
                plan.load_order.push_back(top.module->path);
                stack.pop_back();
                continue;
            }
            // Right to left, as modprobe loads them, so a well-formed modules.dep gives its order.
            const std::string& dep_path = top.module->deps[top.module->deps.size() - 1 - top.taken++];
            auto by_path = m_by_path.find(dep_path);
            if (by_path == m_by_path.end())
                return Error::make(Errc::Config, "module '%s' depends on %s, which modules.dep does not list",
                                   top.name->c_str(), dep_path.c_str());
            auto dep = m_modules.find(by_path->second);
            auto mark = marks.find(dep->first);
            if (mark == marks.end()) {
                marks[dep->first] = Mark::Visiting;
                stack.push_back({&dep->first, &dep->second, 0});
            } else if (mark->second == Mark::Visiting) {
                std::string cycle;
                bool in_cycle = false;
                for (const Frame& f : stack) {
                    in_cycle = in_cycle || *f.name == dep->first;
                    if (in_cycle)
                        cycle += *f.name + " -> ";
                }
                cycle += dep->first;
                return Error::make(Errc::Config, "module dependency cycle: %s", cycle.c_str());
            }
        }
    }
    return plan;
}

}  // namespace cvm::initramfs
