// libFuzzer harness: the strict newc reader, and the modules.dep parser and resolver, on the
// same bytes.
//
// Properties beyond "no crash": every accepted entry's data lies inside the input; an accepted
// archive of directories, files and symlinks, written again by our writer, reads back with the
// same paths, types and data; a resolved load order names each module once.
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "initramfs/cpio.h"
#include "initramfs/modules.h"

using namespace cvm;
using namespace cvm::initramfs;

namespace {

constexpr uint32_t TYPE_MASK = 0170000;

void check_round_trip(const std::vector<NewcEntry>& entries)
{
    Archive archive;
    for (const NewcEntry& e : entries) {
        std::string_view data(reinterpret_cast<const char*>(e.data.data()), e.data.size());
        Result<void> added;
        switch (e.mode & TYPE_MASK) {
        case 0040000: added = archive.add_directory(e.path); break;
        case 0100000: added = archive.add_file(e.path, Bytes(e.data.begin(), e.data.end()), Exec::No); break;
        case 0120000: added = archive.add_symlink(e.path, data); break;
        default: return;  // device nodes and the like: the writer does not make them
        }
        if (!added.ok() || normalize_path(e.path).value() != e.path)
            return;  // a name or hierarchy the writer refuses or would respell
    }
    BufferSink sink;
    if (!archive.write(sink, 0).ok())
        abort();
    auto again = read_newc(sink.bytes());
    if (!again.ok())
        abort();  // the reader must accept everything the writer makes
    std::map<std::string, const NewcEntry*> by_path;
    for (const NewcEntry& e : again.value())
        by_path[e.path] = &e;
    for (const NewcEntry& e : entries) {
        auto it = by_path.find(e.path);
        if (it == by_path.end() || (it->second->mode & TYPE_MASK) != (e.mode & TYPE_MASK) ||
            !std::equal(e.data.begin(), e.data.end(), it->second->data.begin(), it->second->data.end()))
            abort();
    }
}

void check_modules(std::string_view text)
{
    auto index = ModuleIndex::parse(text, text);
    if (!index.ok())
        return;
    std::vector<std::string> names;
    for (size_t at = 0; at < text.size() && names.size() < 64;) {
        size_t end = text.find('\n', at);
        std::string_view line = text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        at = end == std::string_view::npos ? text.size() : end + 1;
        size_t colon = line.find(':');
        if (colon != std::string_view::npos)
            names.push_back(module_name(line.substr(0, colon)));
    }
    auto plan = index->resolve(names);
    if (!plan.ok())
        return;
    std::set<std::string> seen;
    for (const std::string& path : plan->load_order) {
        if (!seen.insert(path).second)
            abort();  // loaded twice
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    ByteView input(data, size);
    auto entries = read_newc(input);
    if (entries.ok()) {
        for (const NewcEntry& e : entries.value()) {
            if (e.data.size() > size || e.data.data() < data || e.data.data() + e.data.size() > data + size)
                abort();
        }
        check_round_trip(entries.value());
    }
    check_modules(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
